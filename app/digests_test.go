package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"atalaya"
	"atalaya/api"
	"atalaya/app"
	"atalaya/archive"
	"atalaya/classify"
	"atalaya/digest"
	"atalaya/index"
	"atalaya/internal/smtptest"
)

// indexReleases indexes n classified releases into the index of data and
// returns their IDs.
func indexReleases(t *testing.T, data string, n int) []atalaya.ID {
	t.Helper()
	idx, err := index.Open(filepath.Join(data, "index"), index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	rules := classify.Default()
	var ids []atalaya.ID
	var docs []index.Document
	for i := range n {
		url := fmt.Sprintf("https://www.state.gov/releases/%d", i)
		rel := atalaya.Release{ID: atalaya.NewID(url), URL: url, Source: "state", Agency: "U.S. Department of State", Country: atalaya.US,
			Language: atalaya.English, Title: fmt.Sprintf("Reward Offer %d for Information on a Cartel Leader", i),
			Published: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), Version: 1,
			Body: "The Department offers a reward of up to $5 million for information leading to the arrest of a cartel leader."}
		docs = append(docs, index.Document{Release: rel, Verdict: rules.Classify(rel), IndexedAt: time.Now()})
		ids = append(ids, rel.ID)
	}
	if err := idx.Put(context.Background(), docs...); err != nil {
		t.Fatal(err)
	}
	return ids
}

// TestRunSendsDigests runs the service with a digest scheduled every
// second and delivered to a real SMTP server on loopback: every indexed
// release arrives exactly once, and /api/digests reports the send.
func TestRunSendsDigests(t *testing.T) {
	data := t.TempDir()
	ids := indexReleases(t, data, 5)
	ms := smtptest.New(t)
	store, err := digest.OpenStore(filepath.Join(data, "digest.db"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	log := slog.New(slog.DiscardHandler)
	digests := func(idx *index.Index, _ *archive.Archive) (*digest.Sender, error) {
		return digest.New(digest.Options{
			Digests: []digest.Definition{{Name: "often", Schedule: "@every 1s", To: []string{"team@example.org"}, BaseURL: "http://localhost:8080"}},
			Index:   idx, Store: store, From: "Atalaya <atalaya@example.org>", Logger: log,
			Transport: &digest.SMTP{Host: "127.0.0.1", Port: ms.Port, TLS: "starttls", Username: smtptest.User,
				Password: smtptest.Password, Timeout: 5 * time.Second, TLSConfig: ms.ClientTLS},
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- app.Run(ctx, app.Options{
			DataDir: data, Listen: "127.0.0.1:0", Digests: digests, MaxJitter: time.Millisecond, AdminToken: "tok",
			Rules:  func() (*classify.Rules, error) { return classify.Default(), nil },
			Logger: log, Ready: func(addr string) { ready <- addr },
		})
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("Run: %v", err)
	}
	var got api.DigestsResponse
	deadline := time.Now().Add(time.Minute)
	for len(got.Digests) == 0 || got.Digests[0].Messages == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no digest delivered in a minute: %+v", got)
		}
		time.Sleep(20 * time.Millisecond)
		resp, err := http.Get("http://" + addr + "/api/digests")
		if err != nil {
			t.Fatalf("the service stopped answering: %v", err)
		}
		json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
	}
	if d := got.Digests[0]; d.Name != "often" || d.Releases != len(ids) || d.LastSent.IsZero() || d.NextRun == nil {
		t.Errorf("/api/digests: %+v; want %d releases sent, a last send and a next run", d, len(ids))
	}
	// A digest is not a source: crawl now does not send it.
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/api/sources/digest:often/crawl", nil)
	req.Header.Set("Authorization", "Bearer tok")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("crawl now of a digest's job: %s, want 404", resp.Status)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run after cancel: %v", err)
	}
	msgs := ms.Received()
	counts, err := smtptest.DeliveryCounts(msgs)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if counts[string(id)] != 1 {
			t.Errorf("release %s arrived in %d messages, want 1", id, counts[string(id)])
		}
	}
	if len(msgs) == 0 || len(msgs[0].To) != 1 || msgs[0].To[0] != "team@example.org" {
		t.Errorf("envelope recipients: %+v", msgs)
	}
}
