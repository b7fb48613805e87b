package teeclient

import (
	"errors"
	"fmt"
	"os"
)

// Evidence is what a provider returns: the bytes to send as the login's evidence, and the TEE.
type Evidence struct {
	TeeType string // "tdx", "sev-snp", "nitro", "az-snp-vtpm", "az-tdx-vtpm"
	Bytes   []byte
	// Certificates the sidecar needs beside the evidence, sent as the login's "certificate":
	// for az-snp-vtpm, what THIM serves (the VCEK, then the ASK and ARK, PEM).
	Certificate []byte
}

// Paths of the platform interfaces; configurable so that tests can point them at fakes
// (tee-testgen serve-tsm / serve-nsm).
type Paths struct {
	TSM            string // configfs-tsm report directory
	SevGuestDevice string // /dev/sev-guest (SNP fallback when configfs-tsm is absent)
	NSMDevice      string // the Nitro Secure Module: /dev/nsm, or a unix socket (fake)
	PrivLevel      int    // SNP VMPL requested through configfs-tsm (-1: leave the default)
	Azure          AzureConfig
}

// DefaultPaths are the Linux interfaces.
func DefaultPaths() Paths {
	return Paths{TSM: "/sys/kernel/config/tsm/report", SevGuestDevice: "/dev/sev-guest", NSMDevice: "/dev/nsm", PrivLevel: -1,
		Azure: DefaultAzureConfig()}
}

// Obtain gets evidence for `tee` ("auto" probes Nitro, then configfs-tsm, then /dev/sev-guest).
// For TDX and SEV-SNP, reportData goes into REPORT_DATA; for Nitro into the document's nonce; for
// an Azure CVM ("az-snp-vtpm", "az-tdx-vtpm", or "azure" for either) into the vTPM quote.
func Obtain(tee string, p Paths, reportData [64]byte) (*Evidence, error) {
	switch tee {
	case "azure", "az-snp-vtpm", "az-tdx-vtpm":
		ev, err := AzureEvidence(p.Azure, reportData)
		if err == nil && tee != "azure" && ev.TeeType != tee {
			return nil, fmt.Errorf("this Azure CVM's HCL report is %s, not %s", ev.TeeType, tee)
		}
		return ev, err
	case "nitro":
		return nitroEvidence(p.NSMDevice, reportData)
	case "tdx", "sev-snp":
		if exists(p.TSM) {
			ev, err := tsmEvidence(p.TSM, p.PrivLevel, reportData)
			if err == nil && ev.TeeType != tee {
				return nil, fmt.Errorf("configfs-tsm provider is %s, not %s", ev.TeeType, tee)
			}
			return ev, err
		}
		if tee == "sev-snp" && exists(p.SevGuestDevice) {
			return sevGuestEvidence(p.SevGuestDevice, p.PrivLevel, reportData)
		}
		return nil, fmt.Errorf("no %s evidence provider: %s does not exist", tee, p.TSM)
	case "auto", "":
		switch {
		case exists(p.NSMDevice):
			return nitroEvidence(p.NSMDevice, reportData)
		case exists(p.TSM):
			return tsmEvidence(p.TSM, p.PrivLevel, reportData)
		case exists(p.SevGuestDevice):
			return sevGuestEvidence(p.SevGuestDevice, p.PrivLevel, reportData)
		}
		return nil, fmt.Errorf("no TEE evidence provider found (looked for %s, %s, %s)", p.NSMDevice, p.TSM, p.SevGuestDevice)
	}
	return nil, errors.New(`tee: expected "auto", "tdx", "sev-snp", "nitro", "azure", "az-snp-vtpm" or "az-tdx-vtpm"`)
}

func exists(path string) bool {
	if path == "" {
		return false
	}
	_, err := os.Stat(path)
	return err == nil
}
