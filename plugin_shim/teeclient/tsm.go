package teeclient

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// tsmEvidence asks the kernel's configfs-tsm report interface (Documentation/ABI/testing/
// configfs-tsm) for a TDX quote or an SEV-SNP report: create an entry, write REPORT_DATA to
// inblob, read outblob (and auxblob, SNP's certificate table), check that the generation did not
// move under us, remove the entry.
func tsmEvidence(dir string, privLevel int, reportData [64]byte) (*Evidence, error) {
	suffix := make([]byte, 8)
	if _, err := rand.Read(suffix); err != nil {
		return nil, err
	}
	entry := filepath.Join(dir, "tee-login-"+hex.EncodeToString(suffix))
	if err := os.Mkdir(entry, 0o700); err != nil {
		return nil, fmt.Errorf("configfs-tsm: creating %s: %w", entry, err)
	}
	defer removeEntry(entry)

	if privLevel >= 0 {
		if err := os.WriteFile(filepath.Join(entry, "privlevel"), []byte(strconv.Itoa(privLevel)), 0o600); err != nil {
			return nil, fmt.Errorf("configfs-tsm: privlevel: %w", err)
		}
	}
	if err := os.WriteFile(filepath.Join(entry, "inblob"), reportData[:], 0o600); err != nil {
		return nil, fmt.Errorf("configfs-tsm: inblob: %w", err)
	}
	// The kernel generates the report when outblob is read. A test provider in a plain directory
	// writes it shortly after; retry briefly while it is missing or empty.
	out, err := readWhenReady(filepath.Join(entry, "outblob"), 10*time.Second)
	if err != nil {
		return nil, fmt.Errorf("configfs-tsm: outblob: %w", err)
	}
	providerBytes, err := os.ReadFile(filepath.Join(entry, "provider"))
	if err != nil {
		return nil, fmt.Errorf("configfs-tsm: provider: %w", err)
	}
	aux, err := os.ReadFile(filepath.Join(entry, "auxblob"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("configfs-tsm: auxblob: %w", err)
	}
	if gen, err := os.ReadFile(filepath.Join(entry, "generation")); err == nil && strings.TrimSpace(string(gen)) != "1" {
		return nil, fmt.Errorf("configfs-tsm: generation %s: another writer used the entry", strings.TrimSpace(string(gen)))
	}
	switch provider := strings.TrimSpace(string(providerBytes)); provider {
	case "tdx_guest":
		return &Evidence{TeeType: "tdx", Bytes: out}, nil
	case "sev_guest":
		// The report followed by its certificate table (VCEK/VLEK, ASK, ARK), the form the
		// verifier accepts without a separate certificate.
		return &Evidence{TeeType: "sev-snp", Bytes: append(out, aux...)}, nil
	default:
		return nil, fmt.Errorf("configfs-tsm: unknown provider %q", provider)
	}
}

// removeEntry rmdirs a configfs entry (its attributes go with it). A test provider's plain
// directory holds real files, which must go first.
func removeEntry(entry string) {
	if err := os.Remove(entry); err != nil && errors.Is(err, syscall.ENOTEMPTY) {
		_ = os.RemoveAll(entry)
	}
}

func readWhenReady(path string, timeout time.Duration) ([]byte, error) {
	deadline := time.Now().Add(timeout)
	for {
		data, err := os.ReadFile(path)
		if err == nil && len(data) > 0 {
			return data, nil
		}
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("no report after %s", timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
