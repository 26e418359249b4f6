// A registry WITH the OCI 1.1 referrers API, for pyko's tests: go-containerregistry's
// in-memory registry (distribution 2.8, the suite's main registry, has no such API).
// Usage: referrers-registry 127.0.0.1:PORT
package main

import (
	"log"
	"net/http"
	"os"

	"github.com/google/go-containerregistry/pkg/registry"
)

func main() {
	handler := registry.New(registry.WithReferrersSupport(true), registry.Logger(log.New(os.Stderr, "", 0)))
	log.Fatal(http.ListenAndServe(os.Args[1], handler))
}
