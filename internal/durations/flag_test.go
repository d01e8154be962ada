package durations

import (
	"testing"

	"github.com/spf13/pflag"
)

func TestTextVarChecksTheDurationWhenTheFlagIsRead(t *testing.T) {
	var v string
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	TextVar(fs, &v, "retire-old-after", "", "usage")
	if fs.Lookup("retire-old-after").Value.Type() != "duration" {
		t.Fatal("the flag does not say duration")
	}
	if err := fs.Parse([]string{"--retire-old-after", "1.5h"}); err == nil {
		t.Fatal("1.5h was accepted")
	}
	if err := fs.Parse([]string{"--retire-old-after", "7d"}); err != nil || v != "7d" {
		t.Fatalf("7d: %q, %v", v, err)
	}
	var def string
	TextVar(fs, &def, "jwks-timeout", "2m", "usage")
	if def != "2m" || fs.Lookup("jwks-timeout").DefValue != "2m" {
		t.Fatalf("default %q / %q", def, fs.Lookup("jwks-timeout").DefValue)
	}
}
