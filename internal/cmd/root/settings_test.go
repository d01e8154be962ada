package root

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/idpctl/idpctl/internal/cli"
	"github.com/idpctl/idpctl/internal/config"
	"github.com/idpctl/idpctl/internal/iostreams"
)

// allFlags maps every flag name of the command tree to its usage strings.
func allFlags(t *testing.T) (*cobra.Command, *cli.Factory, map[string][]string) {
	t.Helper()
	ios, _, _, _ := iostreams.Test()
	f := cli.New(ios, func(string) string { return "" }, "test")
	root := NewCmdRoot(f)
	flags := map[string][]string{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, fs := range []*pflag.FlagSet{c.LocalFlags(), c.PersistentFlags()} {
			fs.VisitAll(func(fl *pflag.Flag) { flags[fl.Name] = append(flags[fl.Name], fl.Usage) })
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	return root, f, flags
}

// profileKeys lists the profile's configuration keys, endpoints.* nested,
// with the struct field each one fills.
func profileKeys() map[string][]int {
	keys := map[string][]int{}
	var walk func(t reflect.Type, prefix string, index []int)
	walk = func(t reflect.Type, prefix string, index []int) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "" || name == "-" {
				continue
			}
			idx := append(append([]int{}, index...), i)
			if f.Type.Kind() == reflect.Struct {
				walk(f.Type, prefix+name+".", idx)
				continue
			}
			keys[prefix+name] = idx
		}
	}
	walk(reflect.TypeOf(config.Profile{}), "", nil)
	return keys
}

func fieldText(p *config.Profile, index []int) string {
	v := reflect.ValueOf(p).Elem().FieldByIndex(index)
	switch v.Kind() {
	case reflect.Slice:
		return strings.Join(v.Convert(reflect.TypeOf([]string(nil))).Interface().([]string), " ")
	case reflect.Map:
		return ""
	case reflect.Bool:
		// A switch read from a variable: the marker turns it on.
		if v.Bool() {
			return "https://marker.example/value"
		}
		return "off"
	default:
		return v.String()
	}
}

// Every setting's flag, environment variable and profile key are one name,
// and the registry matches what the program really reads: the command
// tree's flags, the profile's keys, the variables Resolve consults and the
// ones the source mentions. A setting added or renamed in one place only
// fails here.
func TestEverySettingHasOneNameAcrossFlagEnvironmentAndFile(t *testing.T) {
	_, f, flags := allFlags(t)
	keys := profileKeys()
	byFlag, byEnv, byKey := map[string]config.Setting{}, map[string]config.Setting{}, map[string]config.Setting{}
	oldKeys := map[string]bool{}
	for _, s := range config.Settings {
		if bad := config.SettingNamesAgree(s); bad != nil {
			t.Errorf("setting %s: %s do not spell %q", s.Name, strings.Join(bad, ", "), s.Name)
		}
		if s.Flag != "" {
			byFlag[s.Flag] = s
			if _, ok := flags[s.Flag]; !ok {
				t.Errorf("setting %s: no command has the flag --%s", s.Name, s.Flag)
			}
		}
		if s.Env != "" {
			byEnv[s.Env] = s
		}
		for _, e := range s.OldEnv {
			byEnv[e] = s
		}
		if s.Key != "" {
			byKey[s.Key] = s
			if _, ok := keys[s.Key]; !ok {
				t.Errorf("setting %s: the profile has no key %s", s.Name, s.Key)
			}
		}
		for _, k := range s.OldKey {
			oldKeys[k] = true
			if _, ok := keys[k]; !ok {
				t.Errorf("setting %s: the earlier key %s is no longer read", s.Name, k)
			}
		}
	}

	// Every profile key is a setting's (or an earlier spelling of one).
	for k := range keys {
		if _, ok := byKey[k]; !ok && !oldKeys[k] {
			t.Errorf("the profile key %s is no setting's: add it to config.Settings", k)
		}
	}
	// A flag named like a profile key or a variable is that setting's flag.
	for name, usages := range flags {
		snake := strings.ReplaceAll(name, "-", "_")
		_, isKey := keys[snake]
		_, isEnv := byEnv["IDPCTL_"+strings.ToUpper(snake)]
		if (isKey || isEnv) && byFlag[name].Name == "" {
			t.Errorf("the flag --%s names a setting but is not in config.Settings", name)
		}
		// A flag's help that names a variable names its own.
		for _, u := range usages {
			for _, m := range regexp.MustCompile(`\$?(IDPCTL_[A-Z_]+)`).FindAllStringSubmatch(u, -1) {
				if s, ok := byFlag[name]; ok && m[1] != s.Env {
					t.Errorf("the help of --%s names %s, but the setting's variable is %s", name, m[1], s.Env)
				}
			}
		}
	}

	// Resolve reads each profile setting from its variable, from each
	// earlier spelling of it, and from its global flag.
	const marker = "https://marker.example/value"
	empty := &config.Config{Profiles: map[string]*config.Profile{}}
	for _, s := range config.Settings {
		index, ok := keys[s.Key]
		if !ok || s.Env == "" {
			continue
		}
		value := marker
		if reflect.ValueOf(&config.Profile{}).Elem().FieldByIndex(index).Kind() == reflect.Bool {
			value = "1"
		}
		for _, env := range append([]string{s.Env}, s.OldEnv...) {
			r, err := config.Resolve(empty, func(k string) string {
				if k == env {
					return value
				}
				return ""
			}, config.Overrides{})
			if err != nil {
				t.Fatal(err)
			}
			if got := fieldText(&r.Profile, index); !strings.Contains(got, marker) {
				t.Errorf("setting %s: %s=%s left %s as %q", s.Name, env, marker, s.Key, got)
			}
		}
	}
	root, _, _ := allFlags(t)
	for _, s := range config.Settings {
		index, ok := keys[s.Key]
		if !ok || root.PersistentFlags().Lookup(s.Flag) == nil {
			continue
		}
		_, f, _ := allFlags(t)
		r := NewCmdRoot(f)
		if err := r.PersistentFlags().Parse([]string{"--" + s.Flag, marker}); err != nil {
			t.Fatal(err)
		}
		res, err := config.Resolve(empty, func(string) string { return "" }, f.Flags.Overrides)
		if err != nil {
			t.Fatal(err)
		}
		if got := fieldText(&res.Profile, index); !strings.Contains(got, marker) {
			t.Errorf("setting %s: --%s %s left %s as %q", s.Name, s.Flag, marker, s.Key, got)
		}
	}
	_ = f

	// Every variable the source reads is a setting's; the variables the
	// program writes (-o env) are the only others.
	written := map[string]bool{"IDPCTL_TOKEN": true, "IDPCTL_TOKEN_TYPE": true, "IDPCTL_TOKEN_EXPIRES_AT": true}
	literal := regexp.MustCompile(`"(IDPCTL_[A-Z_]+)`)
	for _, dir := range []string{"../../../internal", "../../../cmd"} {
		err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || strings.Contains(path, "e2e") {
				return err
			}
			src, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, m := range literal.FindAllStringSubmatch(string(src), -1) {
				if _, ok := byEnv[m[1]]; !ok && !written[m[1]] {
					t.Errorf("%s reads %s, which is no setting's: add it to config.Settings", path, m[1])
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	// `idpctl help environment` lists every variable under its current name.
	help := EnvironmentText()
	for _, s := range config.Settings {
		if s.Env != "" && !regexp.MustCompile(`(?m)^\s+`+s.Env+`\s`).MatchString(help) {
			t.Errorf("help environment does not list %s", s.Env)
		}
	}
}

// docs/configuration.md has the table of settings, one row each, as
// config.Settings has them.
func TestTheConfigurationDocListsEverySetting(t *testing.T) {
	raw, err := os.ReadFile("../../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	cell := func(s string) string { return strings.Trim(strings.TrimSpace(s), "`") }
	var got []string
	for _, l := range strings.Split(string(raw), "\n") {
		cols := strings.Split(l, "|")
		if len(cols) < 6 || !strings.HasPrefix(strings.TrimSpace(cols[1]), "`--") && !strings.HasPrefix(strings.TrimSpace(cols[2]), "`IDPCTL_") && !strings.HasPrefix(strings.TrimSpace(cols[3]), "`") {
			continue
		}
		if strings.TrimSpace(cols[1]) == "flag" {
			continue
		}
		got = append(got, strings.Join([]string{cell(cols[1]), cell(cols[2]), cell(cols[3])}, " | "))
	}
	var want []string
	dash := func(prefix, s string) string {
		if s == "" {
			return "-"
		}
		return prefix + s
	}
	for _, s := range config.Settings {
		want = append(want, strings.Join([]string{dash("--", s.Flag), dash("", s.Env), dash("", s.Key)}, " | "))
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("the settings table of docs/configuration.md differs from config.Settings:\ngot\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Duration flags are durations: a flag that takes a length of time says
// "duration" in help and refuses a malformed value as a flag error, rather
// than taking a string that fails later, or not at all.
func TestDurationFlagsAreDurations(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	root := NewCmdRoot(cli.New(ios, func(string) string { return "" }, "test"))
	// A name or an example that says the flag is a length of time.
	timeName := regexp.MustCompile(`(^|-)(timeout|ttl|leeway|after|idle|interval|lifetime)$|^(access|refresh)-token(-ttl)?$`)
	timeExample := regexp.MustCompile(`e\.g\. \d+(ms|s|m|h|d|w)\b`)
	// --since is the audit filter, which may take a point in time as well;
	// it checks its value itself.
	notOnlyDuration := map[string]bool{"audit since": true}
	seen := 0
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.LocalFlags().VisitAll(func(fl *pflag.Flag) {
			path := strings.TrimPrefix(c.CommandPath()+" "+fl.Name, "idpctl ")
			if notOnlyDuration[path] {
				return
			}
			if (timeName.MatchString(fl.Name) || timeExample.MatchString(fl.Usage)) && fl.Value.Type() != "duration" {
				t.Errorf("%s --%s takes a length of time but is a %s flag", c.CommandPath(), fl.Name, fl.Value.Type())
			}
			if fl.Value.Type() == "duration" {
				seen++
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	if seen < 8 {
		t.Fatalf("found only %d duration flags: the walk is broken", seen)
	}
}
