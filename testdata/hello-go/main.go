// hello-go is pyko's sample program. Run inside an image, it proves the base
// is usable, not just present: it reports its user, loads the CA bundle and a
// time zone, reads its kodata, and writes to /tmp. It exits 1 if any check fails.
package main

import (
	"crypto/x509"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	failed := false
	check := func(name string, detail string, err error) {
		if err != nil {
			failed = true
			fmt.Printf("%s: FAIL %v\n", name, err)
			return
		}
		fmt.Printf("%s: ok %s\n", name, detail)
	}

	fmt.Printf("Hello from pyko! (%s/%s) version=%s\n", runtime.GOOS, runtime.GOARCH, version)

	u, err := user.Current()
	name := ""
	if err == nil {
		name = u.Username
	}
	fmt.Printf("uid=%d gid=%d user=%s\n", os.Getuid(), os.Getgid(), name)
	cwd, _ := os.Getwd()
	fmt.Printf("args=%q cwd=%s APP_MODE=%s\n", os.Args[1:], cwd, os.Getenv("APP_MODE"))

	pool, err := x509.SystemCertPool()
	if err == nil && len(pool.Subjects()) == 0 { //nolint:staticcheck // a count is all we need
		err = fmt.Errorf("the system CA pool is empty")
	}
	if err == nil {
		check("ca-certificates", fmt.Sprintf("(%d certificates)", len(pool.Subjects())), nil) //nolint:staticcheck
	} else {
		check("ca-certificates", "", err)
	}

	loc, err := time.LoadLocation("Europe/Berlin")
	if err == nil {
		zone, _ := time.Date(2024, 1, 15, 12, 0, 0, 0, loc).Zone()
		check("timezone", "Europe/Berlin is "+zone, nil)
	} else {
		check("timezone", "", err)
	}

	data, err := os.ReadFile(filepath.Join(os.Getenv("KO_DATA_PATH"), "greeting.txt"))
	check("kodata", strings.TrimSpace(string(data)), err)

	f, err := os.CreateTemp("", "pyko-*")
	if err == nil {
		f.Close()
		err = os.Remove(f.Name())
	}
	check("tmp", "writable", err)

	if failed {
		os.Exit(1)
	}
}
