package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// ServeFileName is the file in the data directory where a running service
// writes its address, for the CLI to find it.
const ServeFileName = "serve.json"

// ServeFile is what serve.json holds.
type ServeFile struct {
	Addr    string    `json:"addr"` // host:port
	PID     int       `json:"pid"`
	Started time.Time `json:"started"`
}

// writeServeFile writes serve.json (through a temporary file and a
// rename, so a reader never sees half of it) and returns what it wrote.
func writeServeFile(dataDir, addr string) (ServeFile, error) {
	sf := ServeFile{Addr: addr, PID: os.Getpid(), Started: time.Now().UTC()}
	data, _ := json.MarshalIndent(sf, "", "  ")
	path := filepath.Join(dataDir, ServeFileName)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return sf, fmt.Errorf("serve: writing %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return sf, fmt.Errorf("serve: writing %s: %w", path, err)
	}
	return sf, nil
}

// removeServeFile removes serve.json if it is still the one sf wrote.
func removeServeFile(dataDir string, sf ServeFile, log *slog.Logger) {
	path := filepath.Join(dataDir, ServeFileName)
	cur, err := ReadServeFile(dataDir)
	if err != nil || cur.PID != sf.PID || cur.Addr != sf.Addr {
		return
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		log.Warn("could not remove serve.json", "path", path, "error", err)
	}
}

// ReadServeFile reads the serve.json of dataDir. A missing file is an
// error wrapping os.ErrNotExist. The service it names may be gone (killed):
// callers check by connecting.
func ReadServeFile(dataDir string) (ServeFile, error) {
	var sf ServeFile
	data, err := os.ReadFile(filepath.Join(dataDir, ServeFileName))
	if err != nil {
		return sf, err
	}
	if err := json.Unmarshal(data, &sf); err != nil {
		return sf, fmt.Errorf("%s: %w", ServeFileName, err)
	}
	return sf, nil
}
