// cli is the other program of pyko's several-binaries sample.
package main

import (
	"fmt"
	"os"
	"os/exec"
)

func main() {
	// Both binaries are on PATH in the image: the CLI finds the server by name.
	server, err := exec.LookPath("server")
	fmt.Printf("cli: uid=%d args=%q server-on-path=%s err=%v\n", os.Getuid(), os.Args[1:], server, err)
}
