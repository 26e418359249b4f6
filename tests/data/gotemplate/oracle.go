// The oracle for pyko's text/template evaluator: each template of the corpus on stdin (a JSON list),
// executed as ko executes .ko.yaml's flags and ldflags (missingkey=error), on data of ko's types.
// Prints a JSON list of {"out": ..., "error": bool}.
package main

import (
	"bytes"
	"encoding/json"
	"os"
	"text/template"
)

type result struct {
	Out   string `json:"out"`
	Error bool   `json:"error"`
}

func data() map[string]any {
	return map[string]any{
		"Env": map[string]string{
			"LDFLAGS": "", "VERSION": "v1.2.3", "EMPTY": "", "LD_FLAGS": "-s -w",
			"QUOTE": "it's \"q\" <&>=\\", "UNI": "héllo wörld\x01", "NUM": "42", "SPACE": "a b+c/d?e",
		},
		"GoEnv": map[string]string{"GOARCH": "arm64", "GOOS": "linux", "CGO_ENABLED": "0", "GOFLAGS": ""},
		"Git": map[string]any{
			"Branch": "main", "Tag": "v0.0.0", "ShortCommit": "abc1234",
			"FullCommit": "abc1234def5678abc1234def5678abc1234def56", "CommitDate": "2026-01-02T03:04:05Z",
			"CommitTimestamp": int64(1767323045), "IsDirty": false, "IsClean": true, "TreeState": "clean",
		},
		"Date":      "2026-12-04T00:00:00Z",
		"Timestamp": int64(1764806400),
	}
}

func main() {
	var corpus []string
	if err := json.NewDecoder(os.Stdin).Decode(&corpus); err != nil {
		panic(err)
	}
	results := make([]result, 0, len(corpus))
	for _, text := range corpus {
		var buf bytes.Buffer
		tmpl, err := template.New("argsTmpl").Option("missingkey=error").Parse(text)
		if err == nil {
			err = tmpl.Execute(&buf, data())
		}
		if err != nil {
			results = append(results, result{Error: true})
		} else {
			results = append(results, result{Out: buf.String()})
		}
	}
	if err := json.NewEncoder(os.Stdout).Encode(results); err != nil {
		panic(err)
	}
}
