package rulestore

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestKeepAndSource(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "rules"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Keep("00a7136f47ab", []byte("first")); err != nil {
		t.Fatal(err)
	}
	// A version already kept is never rewritten.
	if err := s.Keep("00a7136f47ab", []byte("second")); err != nil {
		t.Fatal(err)
	}
	src, err := s.Source("00a7136f47ab")
	if err != nil || string(src) != "first" {
		t.Errorf("got %q, %v; want the first copy kept", src, err)
	}
	if _, err := s.Source("bdf1757efc81"); !errors.Is(err, ErrUnknownVersion) {
		t.Errorf("got %v for a version not kept, want ErrUnknownVersion", err)
	}
	for _, bad := range []string{"../../etc/passwd", "", "ABC123"} {
		if err := s.Keep(bad, []byte("x")); err == nil {
			t.Errorf("Keep(%q) succeeded, want an error", bad)
		}
		if _, err := s.Source(bad); !errors.Is(err, ErrUnknownVersion) {
			t.Errorf("Source(%q): got %v, want ErrUnknownVersion", bad, err)
		}
	}
	vs, err := s.Versions()
	if err != nil || !slices.Equal(vs, []string{"00a7136f47ab"}) {
		t.Errorf("got versions %v, %v; want [00a7136f47ab]", vs, err)
	}
	entries, _ := os.ReadDir(s.Dir())
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

// TestReadingCreatesNothing checks that a store that was never written
// reads as empty and leaves no directory behind.
func TestReadingCreatesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rules")
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Applied(); ok || err != nil {
		t.Errorf("Applied: %t, %v", ok, err)
	}
	if _, ok, err := s.Reclassifying(); ok || err != nil {
		t.Errorf("Reclassifying: %t, %v", ok, err)
	}
	if vs, err := s.Versions(); len(vs) > 0 || err != nil {
		t.Errorf("Versions: %v, %v", vs, err)
	}
	if err := s.EndReclassify(); err != nil {
		t.Errorf("EndReclassify: %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("reading a store created %s (stat: %v)", dir, err)
	}
}

func TestAppliedAndReclassify(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Applied(); ok || err != nil {
		t.Fatalf("fresh store: got applied %t, %v; want none", ok, err)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := s.SetApplied("00a7136f47ab", at); err != nil {
		t.Fatal(err)
	}
	a, ok, err := s.Applied()
	if !ok || err != nil || a.RulesVersion != "00a7136f47ab" || !a.At.Equal(at) {
		t.Errorf("got %+v %t %v, want version 00a7136f47ab at %v", a, ok, err, at)
	}
	want := Reclassification{From: "00a7136f47ab", To: "bdf1757efc81", Started: at}
	if err := s.BeginReclassify(want); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.Reclassifying()
	if !ok || err != nil || got != want {
		t.Errorf("got %+v %t %v, want %+v", got, ok, err, want)
	}
	if err := s.EndReclassify(); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Reclassifying(); ok || err != nil {
		t.Errorf("after EndReclassify: got %t, %v; want none", ok, err)
	}
	if err := s.EndReclassify(); err != nil {
		t.Errorf("EndReclassify with none under way: %v", err)
	}
}

func TestDamagedStateFile(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(s.Dir(), reclassifyFile)
	if err := os.WriteFile(path, []byte("{\"to_rules_ver"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err = s.Reclassifying()
	if err == nil || !strings.Contains(err.Error(), "is damaged") || !strings.Contains(err.Error(), "move it aside") {
		t.Errorf("got %v, want an error saying the file is damaged and what to do", err)
	}
	if data, _ := os.ReadFile(path); string(data) != "{\"to_rules_ver" {
		t.Errorf("reading a damaged file changed it to %q", data)
	}
}
