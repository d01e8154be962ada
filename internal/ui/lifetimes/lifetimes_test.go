package lifetimes

import (
	"testing"

	"github.com/idpctl/idpctl/internal/provider"
)

// A value the IdP fixes reads as the reason, not as a place to set it.
func TestSourceTextReadsAsASentence(t *testing.T) {
	for _, tc := range []struct {
		s                 provider.Source
		from, where, want string
	}{
		{provider.SourceVendor, "", "the sandbox has no idle timeout", "vendor: the sandbox has no idle timeout"},
		{provider.SourceInherited, "the realm", "Realm settings > Tokens", "inherited from the realm; set in Realm settings > Tokens"},
		{provider.SourceUnknown, "", "an access policy rule of default", "unknown; set in an access policy rule of default"},
	} {
		if got := SourceText(tc.s, tc.from, tc.where); got != tc.want {
			t.Errorf("SourceText(%s, %q, %q) = %q, want %q", tc.s, tc.from, tc.where, got, tc.want)
		}
	}
}
