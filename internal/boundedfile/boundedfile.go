// Package boundedfile reads files a user names (secrets, keys, CA
// bundles, JSON documents) with a size cap, so that a wrong path such as
// /dev/zero or a multi-gigabyte log fails at once with a sentence instead
// of exhausting memory. Pipes and process substitutions (/dev/fd/N) are
// read like files, up to the same cap.
package boundedfile

import (
	"fmt"
	"io"
	"os"

	"github.com/idpctl/idpctl/internal/errs"
)

// Caps for the kinds of file read here.
const (
	// Secret is a client or admin secret, or a key file (a Google service
	// account key is about 2.3 KB).
	Secret = 1 << 20
	// Document is a JSON document such as RFC 9396 authorization details.
	Document = 1 << 20
	// CABundle is a PEM bundle; the Mozilla root store is about 250 KB.
	CABundle = 16 << 20
)

// Read reads at most limit bytes of path; a longer file is a usage error
// naming what was expected. what is how the file is named in errors ("the
// client secret file").
func Read(path string, limit int64, what string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, errs.New(errs.KindUsage, "reading %s: %w", what, err)
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, errs.New(errs.KindUsage, "reading %s %s: %w", what, path, err)
	}
	if int64(len(raw)) > limit {
		return nil, errs.New(errs.KindUsage, "%s %s is larger than %s: is it the right file?", what, path, size(limit))
	}
	return raw, nil
}

func size(n int64) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d KiB", n>>10)
}
