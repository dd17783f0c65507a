package main

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// TestDeployFilesMatchTheFlags: every setting docs/DEPLOY.md,
// docs/CLUSTER.md, the Dockerfile and the compose files name, as a flag or
// a TICKROOM_* variable, is a setting of the binary.
func TestDeployFilesMatchTheFlags(t *testing.T) {
	fs := flag.NewFlagSet("tickroom", flag.ContinueOnError)
	defineFlags(fs, &config{})
	byEnv := map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) { byEnv[envName(f.Name)] = true })
	envRe := regexp.MustCompile(`TICKROOM_[A-Z0-9_]+`)
	flagRe := regexp.MustCompile("`-([a-z][a-z0-9-]+)")
	for _, file := range []string{"docs/DEPLOY.md", "Dockerfile", "deploy/compose.yaml", "deploy/compose-cluster.yaml", "docs/CLUSTER.md"} {
		b, err := os.ReadFile(filepath.Join("..", "..", file))
		if err != nil {
			t.Fatalf("read %s: %v", file, err)
		}
		seen := 0
		for _, name := range envRe.FindAllString(string(b), -1) {
			seen++
			if !byEnv[name] {
				t.Errorf("%s names %s, which is no setting", file, name)
			}
		}
		for _, m := range flagRe.FindAllStringSubmatch(string(b), -1) {
			seen++
			if fs.Lookup(m[1]) == nil && m[1] != "help" {
				t.Errorf("%s names -%s, which is no flag", file, m[1])
			}
		}
		if seen == 0 {
			t.Errorf("%s names no setting: the check would pass on anything", file)
		}
	}
}
