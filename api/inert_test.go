package api

import "testing"

func TestInertCell(t *testing.T) {
	for in, want := range map[string]string{
		"":                  "",
		"plain":             "plain",
		"=HYPERLINK(\"x\")": "'=HYPERLINK(\"x\")",
		"+1":                "'+1",
		"-2+3":              "'-2+3",
		"@SUM(A1)":          "'@SUM(A1)",
		"\t=1":              "'\t=1",
		"\r=1":              "'\r=1",
		"a=1":               "a=1",
		"'already":          "'already",
	} {
		if got := InertCell(in); got != want {
			t.Errorf("InertCell(%q) = %q, want %q", in, got, want)
		}
	}
}
