package durations

import "github.com/spf13/pflag"

// textValue is a duration flag that keeps the text as typed, for options
// that tell "not given" ("") from a given 0, and checks it with Parse when
// the flag is read, so a bad value is a flag error (exit 2) before anything
// runs. Its type is "duration", as help shows it next to --timeout's.
type textValue struct{ p *string }

func (v textValue) String() string { return *v.p }
func (v textValue) Type() string   { return "duration" }
func (v textValue) Set(s string) error {
	if _, err := Parse(s); err != nil {
		return err
	}
	*v.p = s
	return nil
}

// TextVar defines a duration flag (Parse's syntax: 90s, 15m, 1h30m, 7d,
// 2w, or bare seconds) whose value is kept as text in p.
func TextVar(fs *pflag.FlagSet, p *string, name, def, usage string) {
	*p = def
	fs.Var(textValue{p}, name, usage)
}
