package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// configFlag names the settings file: -config FILE (TICKROOM_CONFIG).
const configFlag = "config"

// settle gives every flag that the command line did not set its value from
// the environment (TICKROOM_*), else from the -config file, else leaves
// its default: a flag beats its variable, which beats the file. It works
// on whatever flags fs has, so a flag added later is a variable and a file
// key of the same name with no more code.
func settle(fs *flag.FlagSet, getenv func(string) string) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var errs []error
	fromEnv := func(f *flag.Flag) bool {
		v := getenv(envName(f.Name))
		if v == "" {
			return false
		}
		if err := fs.Set(f.Name, v); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: want %s", envName(f.Name), v, want(f)))
		}
		return true
	}
	if f := fs.Lookup(configFlag); f != nil && !set[configFlag] {
		fromEnv(f)
	}
	var file map[string]string
	if f := fs.Lookup(configFlag); f != nil && f.Value.String() != "" {
		var err error
		if file, err = readConfig(fs, f.Value.String()); err != nil {
			return err
		}
	}
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || f.Name == configFlag || fromEnv(f) {
			return
		}
		if v, ok := file[f.Name]; ok {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("config file: %s = %s: want %s", f.Name, v, want(f)))
			}
		}
	})
	return errors.Join(errs...)
}

// readConfig reads a TOML settings file: top-level keys named like the
// flags of fs, each with a value of the flag's kind (durations as strings:
// "30s"). Unknown keys are errors, so that a typo is not silently ignored.
// It returns each value as the flag's text.
func readConfig(fs *flag.FlagSet, path string) (map[string]string, error) {
	var raw map[string]any
	if _, err := toml.DecodeFile(path, &raw); err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	out := make(map[string]string, len(raw))
	var errs []error
	for _, k := range sortedKeys(raw) {
		f := fs.Lookup(k)
		if f == nil || k == configFlag {
			errs = append(errs, fmt.Errorf("config file %s: unknown key %q (tickroom config defaults lists every key)", path, k))
			continue
		}
		v, ok := flagText(f, raw[k])
		if !ok {
			errs = append(errs, fmt.Errorf("config file %s: %s = %v: want %s", path, k, raw[k], want(f)))
			continue
		}
		out[k] = v
	}
	return out, errors.Join(errs...)
}

// flagText turns a TOML value into the text the flag parses, when its
// kind suits the flag.
func flagText(f *flag.Flag, v any) (string, bool) {
	switch def := getter(f); def.(type) {
	case bool:
		b, ok := v.(bool)
		return strconv.FormatBool(b), ok
	case int:
		n, ok := v.(int64)
		return strconv.FormatInt(n, 10), ok
	case float64:
		switch n := v.(type) {
		case int64:
			return strconv.FormatInt(n, 10), true
		case float64:
			return strconv.FormatFloat(n, 'g', -1, 64), true
		}
		return "", false
	default: // strings and durations
		s, ok := v.(string)
		return s, ok
	}
}

func getter(f *flag.Flag) any {
	if g, ok := f.Value.(flag.Getter); ok {
		return g.Get()
	}
	return f.Value.String()
}

// want says what a flag takes, for errors.
func want(f *flag.Flag) string {
	switch getter(f).(type) {
	case bool:
		return "true or false"
	case int:
		return "a whole number"
	case float64:
		return "a number"
	case time.Duration:
		return `a duration such as "30s" or "1h30m"`
	}
	return "a string"
}

// runConfig is `tickroom config defaults`: every setting with its default,
// as a TOML file that -config reads back.
func runConfig(args []string, stdout, stderr io.Writer) error {
	if len(args) != 1 || args[0] != "defaults" {
		fmt.Fprintln(stderr, "usage: tickroom config defaults")
		return errors.New("config: want defaults")
	}
	fs := flag.NewFlagSet("tickroom", flag.ContinueOnError)
	defineFlags(fs, &config{})
	fmt.Fprint(stdout, `# tickroom settings with their defaults, as read by -config FILE.
# Every key is also a flag of the same name (-addr) and an environment
# variable (TICKROOM_ADDR). A flag beats its variable, which beats this
# file, which beats the default. Unknown keys are errors.
`)
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name == configFlag {
			return
		}
		usage, _, _ := strings.Cut(f.Usage, " (env ")
		_, err = fmt.Fprintf(stdout, "\n# %s\n%s = %s\n", usage, f.Name, tomlValue(f))
	})
	return err
}

// tomlValue is a flag's default as a TOML value.
func tomlValue(f *flag.Flag) string {
	switch getter(f).(type) {
	case bool, int, float64:
		return f.DefValue
	}
	return strconv.Quote(f.DefValue)
}

func sortedKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
