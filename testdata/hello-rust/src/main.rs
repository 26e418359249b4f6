//! hello-rust: pyko's Rust sample. Run in an image it shows its effective user
//! (the owner of a file it creates in /tmp), reads the base's /etc/passwd and its
//! kodata, and exits 1 if any of that fails.
use std::os::unix::fs::MetadataExt;
use std::{env, fs, process};

fn main() {
    let mut failed = false;
    println!("Hello from Rust! ({}/{})", env::consts::OS, env::consts::ARCH);

    let probe = format!("/tmp/pyko-rust-{}", process::id());
    match fs::write(&probe, b"x").and_then(|_| fs::metadata(&probe)) {
        Ok(meta) => {
            println!("uid={} gid={}", meta.uid(), meta.gid());
            let _ = fs::remove_file(&probe);
        }
        Err(err) => {
            println!("tmp: FAIL {err}");
            failed = true;
        }
    }

    match fs::read_to_string("/etc/passwd") {
        Ok(text) if text.lines().any(|l| l.starts_with("nonroot:x:65532:")) => println!("passwd: has nonroot"),
        Ok(_) => { println!("passwd: FAIL no nonroot entry"); failed = true; }
        Err(err) => { println!("passwd: FAIL {err}"); failed = true; }
    }

    let kodata = env::var("KO_DATA_PATH").unwrap_or_default();
    match fs::read_to_string(format!("{kodata}/greeting.txt")) {
        Ok(text) => println!("kodata: ok {}", text.trim()),
        Err(err) => { println!("kodata: FAIL {err}"); failed = true; }
    }

    if failed {
        process::exit(1);
    }
}
