package config

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// smtpSection and digestSection are valid smtp and digests sections, from
// line 12 of a file made with source().
const (
	smtpSection = "smtp:\n  host: smtp.example.org\n  username: atalaya\n  password_env: ATALAYA_SMTP_PASSWORD\n  from: \"Atalaya <atalaya@example.org>\"\n"
	digestEntry = "  - name: daily\n    schedule: \"0 7 * * *\"\n    to: [team@example.org]\n    query: \"label:kingpin OR label:root_cause\"\n    base_url: http://localhost:8080\n"
)

func TestDigestConfig(t *testing.T) {
	cfg, err := Parse(strings.NewReader(source()+smtpSection+"digests:\n"+digestEntry), "ok.yaml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := SMTP{Host: "smtp.example.org", Port: 587, TLS: "starttls", Username: "atalaya", PasswordEnv: "ATALAYA_SMTP_PASSWORD",
		From: "Atalaya <atalaya@example.org>", Timeout: 30 * time.Second}
	if cfg.SMTP != want {
		t.Errorf("SMTP: got %+v, want %+v", cfg.SMTP, want)
	}
	dg, ok := cfg.Digest("daily")
	if !ok {
		t.Fatalf("Digest(daily): not found in %+v", cfg.Digests)
	}
	if dg.MaxReleases != DefaultMaxReleases || dg.QueryLine != 21 || dg.Schedule != "0 7 * * *" || !slices.Equal(dg.To, []string{"team@example.org"}) {
		t.Errorf("digest: got %+v", dg)
	}
	def, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if def.SMTP.Host != "" {
		t.Errorf("the embedded configuration sets smtp.host %q; without smtp digests go to the outbox", def.SMTP.Host)
	}
}

func TestDigestConfigErrors(t *testing.T) {
	digests := func(entry string) string { return source() + smtpSection + "digests:\n" + entry }
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"inline password", source() + "smtp:\n  host: h\n  password: hunter2\n  from: a@example.org\n", []string{
			`bad.yaml:14: smtp.password: never write the password in the file: put it in an environment variable and name it with password_env`}},
		{"tls mode", source() + "smtp:\n  host: h\n  tls: ssl\n  from: a@example.org\n", []string{
			`bad.yaml:14: smtp.tls: unknown value "ssl"; want one of none, starttls, tls`}},
		{"no host", source() + "smtp:\n  from: a@example.org\n", []string{`bad.yaml:1: smtp.host: required`}},
		{"bad from", source() + "smtp:\n  host: h\n  from: \"Atalaya <atalaya at example.org>\"\n", []string{
			`bad.yaml:14: smtp.from: address "Atalaya <atalaya at example.org>" is not valid`}},
		{"header injection in from", source() + "smtp:\n  host: h\n  from: \"a@example.org\\r\\nBcc: x@example.org\"\n", []string{
			`bad.yaml:14: smtp.from: address `}},
		{"bad recipient", digests(strings.Replace(digestEntry, "[team@example.org]", "[team@example.org, not-an-address]", 1)), []string{
			`bad.yaml:20: digests[0].to[1]: address "not-an-address" is not valid`}},
		{"no recipients", digests(strings.Replace(digestEntry, "[team@example.org]", "[]", 1)), []string{`digests[0].to: required`}},
		{"bad schedule", digests(strings.Replace(digestEntry, "0 7 * * *", "0 7 * *", 1)), []string{
			`bad.yaml:19: digests[0].schedule: cron spec "0 7 * *" does not parse`}},
		{"bad name", digests(strings.Replace(digestEntry, "daily", "Daily Digest", 1)), []string{
			`bad.yaml:18: digests[0].name: digest name "Daily Digest" must be lower-case`}},
		{"duplicate name", digests(digestEntry + digestEntry), []string{`bad.yaml:23: digests[1].name: duplicate digest name "daily"`}},
		{"relative base URL", digests(strings.Replace(digestEntry, "http://localhost:8080", "/atalaya", 1)), []string{
			`bad.yaml:22: digests[0].base_url: "/atalaya" is not an http or https URL with a host`}},
		{"base URL with a password", digests(strings.Replace(digestEntry, "http://localhost:8080", "http://me:secret@localhost:8080", 1)), []string{
			`bad.yaml:22: digests[0].base_url: URL "http://me:secret@localhost:8080" carries a user name or password; remove them`}},
		{"base URL with a query", digests(strings.Replace(digestEntry, "http://localhost:8080", "http://localhost:8080/?utm=x", 1)), []string{
			`bad.yaml:22: digests[0].base_url: URL "http://localhost:8080/?utm=x" has a query or fragment`}},
		{"no base URL", digests(strings.Replace(digestEntry, "    base_url: http://localhost:8080\n", "", 1)), []string{
			`digests[0].base_url: required: the address of the web UI the digest links to, as in "http://localhost:8080"; set it here, or serve.base_url for every digest`}},
		{"unknown key", digests(digestEntry + "    subject: x\n"), []string{`bad.yaml:23: digests[0].subject: unknown key "subject"`}},
		{"dash key is not a key", digests(digestEntry + "    \"-\": 3\n"), []string{`bad.yaml:23: digests[0].-: unknown key "-"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tt.yaml), "bad.yaml")
			if err == nil {
				t.Fatalf("Parse: got no error, want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Parse: got error\n%v\nwant a line containing %q", err, w)
				}
			}
		})
	}
}

// TestDigestBaseURLFromServe checks that a digest without base_url links
// to serve.base_url, and that its own base_url wins.
func TestDigestBaseURLFromServe(t *testing.T) {
	serve := "serve:\n  base_url: https://atalaya.example.org\n"
	own := strings.Replace(digestEntry, "daily", "own", 1)
	cfg, err := Parse(strings.NewReader(source()+serve+"digests:\n"+strings.Replace(digestEntry, "    base_url: http://localhost:8080\n", "", 1)+own), "ok.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"daily": "https://atalaya.example.org", "own": "http://localhost:8080"} {
		if dg, _ := cfg.Digest(name); dg.BaseURL != want {
			t.Errorf("digest %s: base_url %q, want %q", name, dg.BaseURL, want)
		}
	}
}

func TestCheckDigestQueries(t *testing.T) {
	cfg, err := Parse(strings.NewReader(source()+"digests:\n"+digestEntry+strings.Replace(digestEntry, "daily", "weekly", 1)), "q.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Digests[1].Query = "(label:kingpin"
	probs := CheckDigestQueries(cfg, "q.yaml", func(q string) error {
		if strings.HasPrefix(q, "(") {
			return errors.New(`query:1:15: expected ")" to close "(" at 1:1`)
		}
		return nil
	})
	want := `q.yaml:21: digests[1].query: query:1:15: expected ")" to close "(" at 1:1`
	if len(probs) != 1 || probs[0].String() != want {
		t.Errorf("CheckDigestQueries: got %v, want [%s]", probs, want)
	}
}
