package boundedfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/idpctl/idpctl/internal/errs"
)

func TestReadRefusesWhatIsLargerThanTheCapWithoutReadingItAll(t *testing.T) {
	// /dev/zero never ends: only the cap stops the read.
	_, err := Read("/dev/zero", Secret, "the client secret file")
	if !errs.Is(err, errs.KindUsage) || !strings.Contains(err.Error(), "the client secret file /dev/zero is larger than 1 MiB") {
		t.Fatalf("err = %v", err)
	}
}

func TestReadReturnsAFileWithinTheCap(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(path, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := Read(path, 7, "the secret file")
	if err != nil || string(got) != "s3cret\n" {
		t.Fatalf("%q, %v", got, err)
	}
	if _, err := Read(path, 6, "the secret file"); err == nil {
		t.Fatal("a file one byte over the cap was read")
	}
	if _, err := Read(filepath.Join(t.TempDir(), "none"), 7, "the secret file"); !errs.Is(err, errs.KindUsage) || !strings.Contains(err.Error(), "reading the secret file") {
		t.Fatalf("missing file: %v", err)
	}
}
