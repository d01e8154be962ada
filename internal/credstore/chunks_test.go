package credstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/zalando/go-keyring"

	"github.com/idpctl/idpctl/internal/errs"
)

func chunkAccounts(account, slot string, n int) []string {
	var out []string
	for i := 1; i <= n; i++ {
		out = append(out, chunkAccount(account, slot, i))
	}
	return out
}

// wantAccounts fails unless the fake holds exactly the given accounts.
func wantAccounts(t *testing.T, kr *fakeKeyring, want ...string) {
	t.Helper()
	slices.Sort(want)
	if got := kr.accounts(); !slices.Equal(got, want) {
		t.Fatalf("keychain holds %v, want %v", got, want)
	}
}

func TestKeychainStoresLargeValuesInChunksBehindAManifest(t *testing.T) {
	cases := []struct {
		name   string
		size   int
		chunks int // 0: stored as one plain item
	}{
		{"a value at the limit is stored whole", 2000, 0},
		{"one byte over the limit is chunked", 2001, 2},
		{"a 6 KB value", 6 * 1024, 4},
		{"a 20 KB value", 20 * 1024, 11},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			kr := newFakeKeyring()
			k := newKeychain(kr, "", 0)
			value := valueOf(c.size, 1)

			if err := k.Set(ctx, "work", KindAccessToken, value); err != nil {
				t.Fatalf("Set: %v", err)
			}
			got, err := k.Get(ctx, "work", KindAccessToken)
			if err != nil || !bytes.Equal(got, value) {
				t.Fatalf("Get returned %d bytes, %v; want the %d bytes written", len(got), err, len(value))
			}
			raw, _ := kr.raw("work:access_token")
			if c.chunks == 0 {
				wantAccounts(t, kr, "work:access_token")
				if raw != string(value) {
					t.Fatal("a value within the limit was not stored as is")
				}
				return
			}
			wantAccounts(t, kr, append(chunkAccounts("work:access_token", "a", c.chunks), "work:access_token")...)
			if !strings.HasPrefix(raw, "idpctl-chunked:v1:{") {
				t.Fatalf("the item is not a manifest: %.60q", raw)
			}
			for _, acct := range chunkAccounts("work:access_token", "a", c.chunks) {
				if v, _ := kr.raw(acct); len(v) > 2000 || len(v) == 0 {
					t.Fatalf("chunk %s holds %d bytes", acct, len(v))
				}
			}
		})
	}
}

func TestKeychainChunksRoundTripThroughGoKeyring(t *testing.T) {
	mockKeyring(t)
	ctx := context.Background()
	k := NewKeychain("", 0)
	value := valueOf(20*1024, 2)
	if err := k.Set(ctx, "work", KindAccessToken, value); err != nil {
		t.Fatalf("Set: %v", err)
	}
	if _, err := keyring.Get("idpctl", "work:access_token#a11"); err != nil {
		t.Fatalf("the last chunk is not in the keychain: %v", err)
	}
	got, err := k.Get(ctx, "work", KindAccessToken)
	if err != nil || !bytes.Equal(got, value) {
		t.Fatalf("Get returned %d bytes, %v", len(got), err)
	}
	if err := k.Delete(ctx, "work", KindAccessToken); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	for _, acct := range append(chunkAccounts("work:access_token", "a", 11), "work:access_token") {
		if _, err := keyring.Get("idpctl", acct); !errors.Is(err, keyring.ErrNotFound) {
			t.Fatalf("%s survived Delete: %v", acct, err)
		}
	}
}

func TestAnInterruptedChunkedWriteLeavesThePreviousValueReadable(t *testing.T) {
	cases := []struct {
		name string
		old  []byte
	}{
		{"previous value stored whole", []byte(`{"access_token":"old"}`)},
		{"previous value stored in chunks", valueOf(6*1024, 3)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			kr := newFakeKeyring()
			k := newKeychain(kr, "", 0)
			if err := k.Set(ctx, "work", KindAccessToken, c.old); err != nil {
				t.Fatalf("Set old: %v", err)
			}
			// The process dies after writing every chunk, before the manifest.
			crash := errors.New("killed")
			kr.onSet = func(account, value string) error {
				if account == "work:access_token" {
					return crash
				}
				return nil
			}
			newValue := valueOf(20*1024, 4)
			if err := k.Set(ctx, "work", KindAccessToken, newValue); err == nil {
				t.Fatal("Set succeeded although the manifest could not be written")
			}
			_, inA := kr.raw("work:access_token#a11")
			_, inB := kr.raw("work:access_token#b11")
			if !inA && !inB {
				t.Fatal("the simulation wrote no chunks of the new value")
			}

			got, err := k.Get(ctx, "work", KindAccessToken)
			if err != nil || !bytes.Equal(got, c.old) {
				t.Fatalf("Get after the interrupted write returned %d bytes, %v; want the previous %d bytes", len(got), err, len(c.old))
			}

			// The next write succeeds and leaves no debris behind.
			kr.onSet = nil
			if err := k.Set(ctx, "work", KindAccessToken, newValue); err != nil {
				t.Fatalf("Set: %v", err)
			}
			got, err = k.Get(ctx, "work", KindAccessToken)
			if err != nil || !bytes.Equal(got, newValue) {
				t.Fatalf("Get returned %d bytes, %v", len(got), err)
			}
		})
	}
}

func TestOverwritingAChunkedValueRemovesTheChunksNoLongerUsed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	kr := newFakeKeyring()
	k := newKeychain(kr, "", 0)
	acct := "work:access_token"
	steps := []struct {
		size int
		want []string
	}{
		{20 * 1024, append(chunkAccounts(acct, "a", 11), acct)},
		{6 * 1024, append(chunkAccounts(acct, "b", 4), acct)},
		{20 * 1024, append(chunkAccounts(acct, "a", 11), acct)},
		{100, []string{acct}},
		{6 * 1024, append(chunkAccounts(acct, "a", 4), acct)},
	}
	for i, s := range steps {
		value := valueOf(s.size, byte(i))
		if err := k.Set(ctx, "work", KindAccessToken, value); err != nil {
			t.Fatalf("step %d: Set: %v", i, err)
		}
		wantAccounts(t, kr, s.want...)
		got, err := k.Get(ctx, "work", KindAccessToken)
		if err != nil || !bytes.Equal(got, value) {
			t.Fatalf("step %d: Get returned %d bytes, %v", i, len(got), err)
		}
	}
}

func TestWritingIntoASlotRemovesLeftoversOfAnOlderLargerValue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	kr := newFakeKeyring()
	k := newKeychain(kr, "", 0)
	acct := "work:access_token"
	// An earlier 20 KB value in slot a whose clean-up was interrupted.
	for _, a := range chunkAccounts(acct, "a", 11) {
		kr.plant(a, "stale")
	}
	if err := k.Set(ctx, "work", KindAccessToken, valueOf(6*1024, 5)); err != nil {
		t.Fatalf("Set: %v", err)
	}
	wantAccounts(t, kr, append(chunkAccounts(acct, "a", 4), acct)...)
}

func TestDeleteRemovesEveryChunkIncludingLeftovers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	kr := newFakeKeyring()
	k := newKeychain(kr, "", 0)
	acct := "work:access_token"
	if err := k.Set(ctx, "work", KindAccessToken, valueOf(6*1024, 6)); err != nil {
		t.Fatalf("Set: %v", err)
	}
	// Leftovers beyond the manifest's count in its slot, and an interrupted
	// write in the other slot.
	kr.plant(acct+"#a5", "stale")
	kr.plant(acct+"#a6", "stale")
	kr.plant(acct+"#b1", "stale")
	kr.plant(acct+"#b2", "stale")
	kr.plant("other:access_token", "unrelated")

	if err := k.Delete(ctx, "work", KindAccessToken); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantAccounts(t, kr, "other:access_token")
}

func TestDeleteProfileRemovesChunkedItems(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	kr := newFakeKeyring()
	k := newKeychain(kr, "", 0)
	if err := k.Set(ctx, "work", KindAccessToken, valueOf(20*1024, 7)); err != nil {
		t.Fatal(err)
	}
	if err := k.Set(ctx, "work", KindRefreshToken, []byte("rt")); err != nil {
		t.Fatal(err)
	}
	if err := DeleteProfile(ctx, k, "work"); err != nil {
		t.Fatalf("DeleteProfile: %v", err)
	}
	wantAccounts(t, kr)
}

func TestAChunkedItemThatDoesNotAddUpIsReportedAsDamaged(t *testing.T) {
	acct := "work:access_token"
	cases := []struct {
		name   string
		damage func(kr *fakeKeyring)
		reason string
	}{
		{"a chunk changed", func(kr *fakeKeyring) {
			v, _ := kr.raw(acct + "#a2")
			kr.plant(acct+"#a2", "X"+v[1:])
		}, "do not match the digest"},
		{"a chunk missing", func(kr *fakeKeyring) {
			_ = kr.Delete(KeychainService, acct+"#a3")
		}, "chunk 3 of 4 is missing"},
		{"a chunk shortened", func(kr *fakeKeyring) {
			v, _ := kr.raw(acct + "#a4")
			kr.plant(acct+"#a4", v[:len(v)-1])
		}, "do not match the digest"},
		{"the manifest mangled", func(kr *fakeKeyring) {
			kr.plant(acct, "idpctl-chunked:v1:{not json")
		}, "not valid JSON"},
		{"a manifest from a future version", func(kr *fakeKeyring) {
			kr.plant(acct, `idpctl-chunked:v9:{}`)
		}, "does not know"},
		{"a manifest claiming a million chunks", func(kr *fakeKeyring) {
			kr.plant(acct, `idpctl-chunked:v1:{"slot":"a","chunks":1000000,"size":1,"sha256":"00"}`)
		}, "incomplete"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			kr := newFakeKeyring()
			k := newKeychain(kr, "", 0)
			value := append([]byte(secretValue), valueOf(6*1024, 8)...)
			if err := k.Set(ctx, "work", KindAccessToken, value); err != nil {
				t.Fatal(err)
			}
			c.damage(kr)

			_, err := k.Get(ctx, "work", KindAccessToken)
			if !errors.Is(err, ErrDamaged) || !errs.Is(err, errs.KindStore) {
				t.Fatalf("Get = %v (kind %v), want a damaged-item store error", err, errs.KindOf(err))
			}
			for _, want := range []string{c.reason, acct, "idpctl logout"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("message lacks %q: %s", want, err)
				}
			}
			if strings.Contains(err.Error(), secretValue) {
				t.Errorf("message contains the value: %s", err)
			}
			// A damaged item can still be replaced and removed.
			if err := k.Set(ctx, "work", KindAccessToken, []byte("fresh")); err != nil {
				t.Fatalf("Set over a damaged item: %v", err)
			}
			if err := k.Delete(ctx, "work", KindAccessToken); err != nil {
				t.Fatalf("Delete: %v", err)
			}
			wantAccounts(t, kr)
		})
	}
}

func TestAReaderRacingAWriterGetsTheNewValueRatherThanATornOne(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	kr := newFakeKeyring()
	reader := newKeychain(kr, "", 0)
	writer := newKeychain(kr, "", 0)
	old, newValue := valueOf(6*1024, 9), valueOf(6*1024, 10)
	if err := writer.Set(ctx, "work", KindAccessToken, old); err != nil {
		t.Fatal(err)
	}
	// While the reader is between chunks 1 and 2 of the old value, another
	// process replaces the value and removes the old chunks.
	wrote := false
	kr.onGet = func(account string) {
		if account == "work:access_token#a2" && !wrote {
			wrote = true
			if err := writer.Set(ctx, "work", KindAccessToken, newValue); err != nil {
				t.Errorf("concurrent Set: %v", err)
			}
		}
	}
	got, err := reader.Get(ctx, "work", KindAccessToken)
	if !wrote {
		t.Fatal("the concurrent write did not happen")
	}
	if err != nil || !bytes.Equal(got, newValue) {
		t.Fatalf("Get returned %d bytes, %v; want the new value", len(got), err)
	}
}

func TestKeychainChunksSmallerWhenTheKeychainSaysTheDataIsTooBig(t *testing.T) {
	for _, size := range []int{1500, 6 * 1024} {
		t.Run(fmt.Sprintf("%d bytes", size), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			kr := newFakeKeyring()
			kr.onSet = func(_, value string) error {
				if len(value) > 700 {
					return keyring.ErrSetDataTooBig
				}
				return nil
			}
			k := newKeychain(kr, "", 0)
			value := valueOf(size, 11)
			if err := k.Set(ctx, "work", KindAccessToken, value); err != nil {
				t.Fatalf("Set: %v", err)
			}
			got, err := k.Get(ctx, "work", KindAccessToken)
			if err != nil || !bytes.Equal(got, value) {
				t.Fatalf("Get returned %d bytes, %v", len(got), err)
			}
			for _, a := range kr.accounts() {
				if v, _ := kr.raw(a); len(v) > 700 {
					t.Fatalf("%s holds %d bytes, over the keychain's limit", a, len(v))
				}
			}
		})
	}
}

func TestAKeychainThatRefusesEvenSmallPiecesGivesAStoreError(t *testing.T) {
	t.Parallel()
	kr := newFakeKeyring()
	kr.onSet = func(string, string) error { return keyring.ErrSetDataTooBig }
	err := newKeychain(kr, "", 0).Set(context.Background(), "work", KindAccessToken, []byte(secretValue))
	if !errs.Is(err, errs.KindStore) || !strings.Contains(err.Error(), "too big") {
		t.Fatalf("Set = %v (kind %v), want a store error saying too big", err, errs.KindOf(err))
	}
	if strings.Contains(err.Error(), secretValue) {
		t.Errorf("message contains the value: %s", err)
	}
}

func TestAValueThatLooksLikeAManifestIsStoredUnambiguously(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	kr := newFakeKeyring()
	k := newKeychain(kr, "", 0)
	value := []byte(`idpctl-chunked:v1:{"slot":"a","chunks":1,"size":3,"sha256":"x"}`)
	if err := k.Set(ctx, "work", KindClientSecret, value); err != nil {
		t.Fatalf("Set: %v", err)
	}
	got, err := k.Get(ctx, "work", KindClientSecret)
	if err != nil || !bytes.Equal(got, value) {
		t.Fatalf("Get = %q, %v", got, err)
	}
	if raw, _ := kr.raw("work:client_secret"); raw == string(value) {
		t.Fatal("the value was stored as is, where it would be read as a manifest")
	}
}

// A chunk deleted between the Secret Service's lookup and its read is
// answered "Object does not exist" rather than "not found": that is the
// same torn read, retried from the manifest, not a broken keychain.
func TestAChunkThatVanishesMidReadIsATornReadNotAStoreFailure(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	kr := newFakeKeyring()
	reader := newKeychain(kr, "", 0)
	writer := newKeychain(kr, "", 0)
	old, newValue := valueOf(6*1024, 12), valueOf(6*1024, 13)
	if err := writer.Set(ctx, "work", KindAccessToken, old); err != nil {
		t.Fatal(err)
	}
	vanishedOnce := false
	kr.getErr = func(account string) error {
		if account == "work:access_token#a2" && !vanishedOnce {
			vanishedOnce = true
			if err := writer.Set(ctx, "work", KindAccessToken, newValue); err != nil {
				t.Errorf("concurrent Set: %v", err)
			}
			return errors.New("Object does not exist at path \u201c/org/freedesktop/secrets/collection/login/369\u201d")
		}
		return nil
	}
	got, err := reader.Get(ctx, "work", KindAccessToken)
	if !vanishedOnce {
		t.Fatal("the chunk did not vanish")
	}
	if err != nil || !bytes.Equal(got, newValue) {
		t.Fatalf("Get returned %d bytes, %v; want the new value", len(got), err)
	}
}
