// server is one of the two programs of pyko's several-binaries sample.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	shared, err := os.ReadFile(filepath.Join(os.Getenv("KO_DATA_PATH"), "shared.txt"))
	if err != nil {
		fmt.Println("server: no kodata:", err)
		os.Exit(1)
	}
	own, _ := os.ReadFile(filepath.Join(os.Getenv("KO_DATA_PATH"), "server.txt"))
	fmt.Printf("server: uid=%d args=%q shared=%s own=%s\n", os.Getuid(), os.Args[1:],
		strings.TrimSpace(string(shared)), strings.TrimSpace(string(own)))
}
