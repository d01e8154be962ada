package credstore

import (
	"context"
	"fmt"
	"sync"
)

// Memory is a Store that keeps nothing after the process exits: for one-shot
// CI jobs that fetch a token once, and for tests.
type Memory struct {
	mu    sync.Mutex
	items map[string][]byte
	locks sync.Map // profile -> *sync.Mutex
}

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory { return &Memory{items: map[string][]byte{}} }

func (m *Memory) Backend() string { return "memory" }

func (m *Memory) Get(_ context.Context, profile string, kind Kind) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.items[Account(profile, kind)]
	if !ok {
		return nil, fmt.Errorf("%s: %w", Account(profile, kind), ErrNotFound)
	}
	return append([]byte(nil), v...), nil
}

func (m *Memory) Set(_ context.Context, profile string, kind Kind, value []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.items[Account(profile, kind)] = append([]byte(nil), value...)
	return nil
}

func (m *Memory) Delete(_ context.Context, profile string, kind Kind) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.items, Account(profile, kind))
	return nil
}

// Lock serialises callers within this process only; that is all a store
// that does not outlive the process needs.
func (m *Memory) Lock(ctx context.Context, profile string) (func(), error) {
	v, _ := m.locks.LoadOrStore(profile, &sync.Mutex{})
	mu := v.(*sync.Mutex)
	done := make(chan struct{})
	go func() { mu.Lock(); close(done) }()
	select {
	case <-done:
		return mu.Unlock, nil
	case <-ctx.Done():
		go func() { <-done; mu.Unlock() }()
		return nil, ctx.Err()
	}
}
