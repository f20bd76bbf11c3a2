package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"atalaya/config"
)

func TestConfigCommand(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantOut    []string // substrings of stdout
		wantErrOut []string // substrings of stderr
	}{
		{
			name:     "check default",
			args:     []string{"config", "check"},
			wantOut:  []string{"ok: 10 sources\n"},
			wantCode: 0,
		},
		{
			name:     "check file",
			args:     []string{"config", "check", "testdata/config-good.yaml"},
			wantOut:  []string{"ok: 2 sources\n"},
			wantCode: 0,
		},
		{
			name:     "check --config",
			args:     []string{"--config", "testdata/config-good.yaml", "config", "check"},
			wantOut:  []string{"ok: 2 sources\n"},
			wantCode: 0,
		},
		{
			name:     "check broken",
			args:     []string{"config", "check", "testdata/config-broken.yaml"},
			wantCode: 1,
			wantOut: []string{
				`testdata/config-broken.yaml:9: sources[0].schedule: cron spec "every hour" does not parse`,
				`testdata/config-broken.yaml:14: sources[0].listing.item: selector "#prensa article[" does not parse`,
				`testdata/config-broken.yaml:20: sources[0].article.colour: unknown key "colour"`,
			},
			wantErrOut: []string{"atalaya config check: 3 problems in testdata/config-broken.yaml\n"},
		},
		{
			name:       "check short schedule",
			args:       []string{"config", "check", "testdata/config-mirror.yaml"},
			wantCode:   1,
			wantOut:    []string{`testdata/config-mirror.yaml:14: sources[0].schedule: cron spec "@every 10s": interval 10s is shorter than 1m0s`},
			wantErrOut: []string{"atalaya config check: 1 problem in testdata/config-mirror.yaml\n"},
		},
		{
			name:     "check offline",
			args:     []string{"config", "check", "--offline", "testdata/config-mirror.yaml"},
			wantCode: 0,
			wantOut: []string{"host news.example.org is mapped to http://127.0.0.1:18101\n",
				"private network addresses are allowed (allow_private_networks: true)\n", "ok: 1 sources\n"},
		},
		{
			name:       "check missing file",
			args:       []string{"config", "check", "testdata/config-nope.yaml"},
			wantCode:   1,
			wantErrOut: []string{"atalaya config check: open testdata/config-nope.yaml: no such file"},
		},
		{
			name:       "check two files",
			args:       []string{"config", "check", "a.yaml", "b.yaml"},
			wantCode:   2,
			wantErrOut: []string{"config check [--offline] [FILE]"},
		},
		{
			name:     "show default",
			args:     []string{"config", "show"},
			wantOut:  []string{string(config.DefaultYAML())},
			wantCode: 0,
		},
		{
			name:     "show resolved",
			args:     []string{"--config", "testdata/config-good.yaml", "config", "show", "--resolved"},
			wantOut:  []string{"- name: beta\n", "user_agent: beta-agent/1\n", "Accept: text/html\n"},
			wantCode: 0,
		},
		{
			name:       "show broken",
			args:       []string{"--config", "testdata/config-broken.yaml", "config", "show"},
			wantCode:   1,
			wantOut:    []string{"testdata/config-broken.yaml:9: sources[0].schedule"},
			wantErrOut: []string{"atalaya config show: 3 problems in testdata/config-broken.yaml\n"},
		},
		{
			name:       "no subcommand",
			args:       []string{"config"},
			wantCode:   2,
			wantErrOut: []string{"Usage: atalaya config <subcommand>"},
		},
		{
			name:       "unknown subcommand",
			args:       []string{"config", "lint"},
			wantCode:   2,
			wantErrOut: []string{`unknown subcommand "lint"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(context.Background(), tt.args, &out, &errOut)
			if code != tt.wantCode {
				t.Errorf("exit code: got %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, &out, &errOut)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out.String(), w) {
					t.Errorf("stdout: got\n%s\nwant it to contain %q", &out, w)
				}
			}
			for _, w := range tt.wantErrOut {
				if !strings.Contains(errOut.String(), w) {
					t.Errorf("stderr: got\n%s\nwant it to contain %q", &errOut, w)
				}
			}
		})
	}
}

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		path    string
		sources int
	}{
		{"", 10},
		{"testdata/config-good.yaml", 2},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			e := &env{configPath: tt.path}
			cfg, err := e.loadConfig()
			if err != nil {
				t.Fatalf("loadConfig: %v", err)
			}
			if got := len(cfg.Sources); got != tt.sources {
				t.Errorf("loadConfig: got %d sources, want %d", got, tt.sources)
			}
		})
	}
}
