package credstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/zalando/go-keyring"

	"github.com/idpctl/idpctl/internal/errs"
)

// How large values live in a keychain.
//
// Keychains cap an item: Windows' Credential Manager at 2560 bytes of
// secret, macOS's security(1) at a 4096-byte command line that holds the
// base64 of the secret (about 3000 bytes of value), and Secret Service
// implementations slow down on large items. One conservative size on every
// OS keeps behaviour identical everywhere, and so tested on Linux. A value
// over it is split into chunks, stored as accounts "<account>#a1".."#aN" (or
// "#b1".."#bN"), and then a manifest naming the slot, count, size and SHA-256
// is written LAST at the item's own account. Writing the manifest is the
// commit: until then readers see the previous value.
//
// Chunks alternate between two slots, a and b: a new chunked value goes to
// the slot the current manifest does not use, so a reader holding the old
// manifest still finds the old chunks intact while the new ones are written.
// go-keyring cannot list items, so chunks are found by probing upwards from
// 1; to keep that sound, every slot holds a contiguous run #1..#k at all
// times: chunks are written in ascending order and removed in descending
// order, so an interrupted write or removal leaves a shorter run, never a
// gap.
const (
	// keychainChunkSize is the largest value stored as one keychain item.
	keychainChunkSize = 2000
	// minChunkSize is how far the chunk size is halved when a keychain
	// answers ErrSetDataTooBig to a chunk, before giving up.
	minChunkSize = 128
	// maxChunks bounds a value (and a manifest that claims more), so a
	// damaged manifest cannot send a reader into millions of calls.
	maxChunks = 1024
	// readAttempts is how often a reader restarts when the chunks it read
	// no longer match because a writer replaced the value meanwhile.
	readAttempts = 3
)

// manifestPrefix marks a manifest. A value that itself starts with
// manifestMarker is always stored chunked, so a stored value that starts
// with it is a manifest and never a value.
const (
	manifestMarker = "idpctl-chunked:"
	manifestPrefix = manifestMarker + "v1:"
)

// ErrDamaged is wrapped by the error for an item that exists but cannot be
// read back whole: a chunk is missing or does not match the manifest.
var ErrDamaged = errors.New("damaged credential store item")

type manifest struct {
	Slot   string `json:"slot"`
	Chunks int    `json:"chunks"`
	Size   int    `json:"size"`
	SHA256 string `json:"sha256"`
}

func isManifest(raw string) bool { return strings.HasPrefix(raw, manifestMarker) }

func encodeManifest(m manifest) string {
	b, _ := json.Marshal(m) // a struct of strings and ints always encodes
	return manifestPrefix + string(b)
}

func parseManifest(raw string) (manifest, error) {
	body, ok := strings.CutPrefix(raw, manifestPrefix)
	if !ok {
		return manifest{}, errors.New("its manifest is in a format this version of idpctl does not know")
	}
	var m manifest
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		return manifest{}, errors.New("its manifest is not valid JSON")
	}
	if (m.Slot != "a" && m.Slot != "b") || m.Chunks < 1 || m.Chunks > maxChunks || m.Size < 0 || len(m.SHA256) != sha256.Size*2 {
		return manifest{}, errors.New("its manifest is incomplete")
	}
	return m, nil
}

func chunkAccount(account, slot string, i int) string {
	return account + "#" + slot + strconv.Itoa(i)
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// tornRead is a chunked read that did not add up; it may be a writer's
// change in progress, so the reader starts again from the manifest.
type tornRead struct{ reason string }

func (e *tornRead) Error() string { return e.reason }

func damaged(account, reason string) error {
	return errs.New(errs.KindStore, "the keychain item %s cannot be read back whole (%s); remove it with 'idpctl logout' and log in again: %w", account, reason, ErrDamaged)
}

// getWhole reads an item, following its manifest when it has one.
func (k *Keychain) getWhole(ctx context.Context, account string) ([]byte, error) {
	var previous string
	var lastTorn *tornRead
	for range readAttempts {
		raw, err := k.get(ctx, account)
		if err != nil {
			return nil, err
		}
		if !isManifest(raw) {
			return []byte(raw), nil
		}
		if raw == previous {
			// The manifest did not change, so no writer is at work: the
			// chunks really are missing or wrong.
			break
		}
		m, err := parseManifest(raw)
		if err != nil {
			return nil, damaged(account, err.Error())
		}
		v, err := k.readChunks(ctx, account, m)
		if err == nil {
			return v, nil
		}
		if !errors.As(err, &lastTorn) {
			return nil, err
		}
		previous = raw
	}
	return nil, damaged(account, lastTorn.reason)
}

func (k *Keychain) readChunks(ctx context.Context, account string, m manifest) ([]byte, error) {
	buf := make([]byte, 0, m.Size)
	for i := 1; i <= m.Chunks; i++ {
		part, err := k.get(ctx, chunkAccount(account, m.Slot, i))
		if errors.Is(err, ErrNotFound) {
			return nil, &tornRead{reason: fmt.Sprintf("chunk %d of %d is missing", i, m.Chunks)}
		}
		if err != nil {
			return nil, err
		}
		buf = append(buf, part...)
		if len(buf) > m.Size {
			break
		}
	}
	want, _ := hex.DecodeString(m.SHA256)
	got := sha256.Sum256(buf)
	if len(buf) != m.Size || subtle.ConstantTimeCompare(got[:], want) != 1 {
		return nil, &tornRead{reason: "its chunks do not match the digest in its manifest"}
	}
	return buf, nil
}

// current reads the manifest at account, if the item is a chunked one.
// found is false for an absent item, a plain value or an unreadable
// manifest; a later purge of both slots copes with the last.
func (k *Keychain) current(ctx context.Context, account string) (m manifest, found bool, err error) {
	raw, err := k.get(ctx, account)
	if errors.Is(err, ErrNotFound) {
		return manifest{}, false, nil
	}
	if err != nil {
		return manifest{}, false, err
	}
	if !isManifest(raw) {
		return manifest{}, false, nil
	}
	m, err = parseManifest(raw)
	if err != nil {
		return manifest{}, false, nil
	}
	return m, true, nil
}

// setWhole writes value at account, plain when it fits and chunked when it
// does not, then removes the chunks the previous value left behind.
func (k *Keychain) setWhole(ctx context.Context, account string, value []byte) error {
	old, hadOld, err := k.current(ctx, account)
	if err != nil {
		return err
	}
	if len(value) <= k.chunkSize && !bytes.HasPrefix(value, []byte(manifestMarker)) {
		err := k.set(ctx, account, string(value))
		if err == nil {
			return k.purge(ctx, account, old, hadOld, "", 0, false)
		}
		if !errors.Is(err, keyring.ErrSetDataTooBig) {
			return err
		}
		// This keychain's limit is below ours: chunk it smaller.
	}
	slot := "a"
	if hadOld && old.Slot == "a" {
		slot = "b"
	}
	n, err := k.writeChunks(ctx, account, slot, value)
	if err != nil {
		return err
	}
	m := manifest{Slot: slot, Chunks: n, Size: len(value), SHA256: digest(value)}
	if err := k.set(ctx, account, encodeManifest(m)); err != nil {
		if errors.Is(err, keyring.ErrSetDataTooBig) {
			return errs.New(errs.KindStore, "the keychain refused the manifest of %s as too big; %s", account, storeChoice)
		}
		return err
	}
	return k.purge(ctx, account, old, hadOld, slot, n, false)
}

// writeChunks writes value as chunks #1..#n of slot, halving the chunk size
// while the keychain answers ErrSetDataTooBig.
func (k *Keychain) writeChunks(ctx context.Context, account, slot string, value []byte) (int, error) {
	size := k.chunkSize
	for {
		n := (len(value) + size - 1) / size
		if n < 1 {
			n = 1
		}
		if n > maxChunks {
			return 0, errs.New(errs.KindStore, "%s is too large for the keychain (%d bytes); %s", account, len(value), storeChoice)
		}
		err := k.writeSlot(ctx, account, slot, value, size, n)
		if err == nil {
			return n, nil
		}
		if !errors.Is(err, keyring.ErrSetDataTooBig) {
			return 0, err
		}
		if size/2 < minChunkSize {
			return 0, errs.New(errs.KindStore, "the keychain refused a %d-byte piece of %s as too big; %s", size, account, storeChoice)
		}
		size /= 2
	}
}

func (k *Keychain) writeSlot(ctx context.Context, account, slot string, value []byte, size, n int) error {
	for i := 1; i <= n; i++ {
		lo := (i - 1) * size
		hi := min(lo+size, len(value))
		if err := k.set(ctx, chunkAccount(account, slot, i), string(value[lo:hi])); err != nil {
			return err
		}
	}
	return nil
}

// purge removes the chunks no manifest refers to any more: those of the
// previous value (old, when hadOld) and those beyond keep in the slot in use
// (inUse is "" when the value is plain or deleted). A slot that neither
// holds the previous value nor is in use is probed only when thorough: it
// can hold chunks only after an interrupted write, and on macOS every probe
// runs security(1), so a routine Set skips it and Delete does not.
func (k *Keychain) purge(ctx context.Context, account string, old manifest, hadOld bool, inUse string, keep int, thorough bool) error {
	for _, slot := range []string{"a", "b"} {
		known := 0
		if hadOld && old.Slot == slot {
			known = old.Chunks
		}
		from := 0
		if slot == inUse {
			from = keep
		}
		if slot != inUse && known == 0 && !thorough {
			continue
		}
		if err := k.purgeSlot(ctx, account, slot, from, known); err != nil {
			return fmt.Errorf("removing the chunks of the previous value: %w", err)
		}
	}
	return nil
}

// purgeSlot removes chunks #keep+1 and up of slot. known is how many chunks
// the slot is believed to hold; the probe above it finds leftovers of an
// older, larger value or of an interrupted write.
func (k *Keychain) purgeSlot(ctx context.Context, account, slot string, keep, known int) error {
	top := max(keep, known)
	for top < maxChunks {
		_, err := k.get(ctx, chunkAccount(account, slot, top+1))
		if errors.Is(err, ErrNotFound) {
			break
		}
		if err != nil {
			return err
		}
		top++
	}
	for i := top; i > keep; i-- {
		if err := k.del(ctx, chunkAccount(account, slot, i)); err != nil {
			return err
		}
	}
	return nil
}

// deleteWhole removes the item first, so that readers see it gone rather
// than half removed, then every chunk of both slots.
func (k *Keychain) deleteWhole(ctx context.Context, account string) error {
	old, hadOld, err := k.current(ctx, account)
	if err != nil {
		return err
	}
	if err := k.del(ctx, account); err != nil {
		return err
	}
	return k.purge(ctx, account, old, hadOld, "", 0, true)
}
