package main

// tee-login cert: mints the attested TLS client certificate (docs/workloads.md) and keeps
// re-minting it, for `bao login -method=cert` and the agent's cert auto-auth method.

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/vault-plugin-auth-tee/plugin_shim/teeclient"
)

// Linux statfs magic numbers of the memory-backed file systems.
const (
	tmpfsMagic = 0x01021994
	ramfsMagic = 0x858458f6
)

type certOptions struct {
	role, tee, out    string
	lifetime, refresh time.Duration
	paths             teeclient.Paths
}

func runCert(args []string, stderr io.Writer) int {
	o, err := parseCertFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "tee-login cert: %v\n", err)
		return 2
	}
	if err := prepareDir(o.out, stderr); err != nil {
		fmt.Fprintf(stderr, "tee-login cert: -out: %v\n", err)
		return 1
	}
	if err := mint(o, stderr); err != nil {
		fmt.Fprintf(stderr, "tee-login cert: %v\n", err)
		return 1
	}
	if o.refresh == 0 {
		return 0
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	ticker := time.NewTicker(o.refresh)
	defer ticker.Stop()
	for {
		select {
		case <-stop:
			return 0
		case <-ticker.C:
			// A failed re-mint leaves the previous certificate in place; it ages out on its own,
			// after which logins fail closed until minting works again.
			if err := mint(o, stderr); err != nil {
				fmt.Fprintf(stderr, "tee-login cert: %v\n", err)
			}
		}
	}
}

func parseCertFlags(args []string, stderr io.Writer) (*certOptions, error) {
	o := &certOptions{paths: teeclient.DefaultPaths()}
	fs := flag.NewFlagSet("tee-login cert", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.role, "role", "", "role the certificate is for (its common name; required)")
	fs.StringVar(&o.out, "out", "", "directory for key.pem and cert.pem (required; use a tmpfs)")
	fs.DurationVar(&o.lifetime, "lifetime", 10*time.Minute, "certificate lifetime (notAfter - notBefore)")
	fs.DurationVar(&o.refresh, "refresh", 0, "re-mint key and certificate this often and keep running (0: mint once and exit)")
	providerFlags(fs, &o.tee, &o.paths)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	switch {
	case fs.NArg() > 0:
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case o.role == "":
		return nil, errors.New("-role is required")
	case o.out == "":
		return nil, errors.New("-out is required")
	case o.lifetime < time.Second:
		return nil, errors.New("-lifetime: at least 1s")
	case o.refresh < 0 || o.refresh > 0 && o.refresh >= o.lifetime:
		return nil, errors.New("-refresh: must be shorter than -lifetime, so a fresh certificate is always in place")
	}
	return o, nil
}

// prepareDir creates the directory (0700) and warns when it is not memory-backed: the key must
// never reach a disk.
func prepareDir(dir string, stderr io.Writer) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return err
	}
	if st.Type != tmpfsMagic && st.Type != ramfsMagic {
		fmt.Fprintf(stderr, "tee-login cert: warning: %s is not on a tmpfs: the private key is written to disk\n", dir)
	}
	return nil
}

func mint(o *certOptions, stderr io.Writer) error {
	key, err := teeclient.NewCertKey()
	if err != nil {
		return err
	}
	der, err := teeclient.MintCertificate(teeclient.CertRequest{
		Key: key, NotBefore: time.Now(), Lifetime: o.lifetime, CommonName: "tee-auth " + o.role,
	}, func(reportData [64]byte) (*teeclient.Evidence, error) {
		return teeclient.Obtain(o.tee, o.paths, reportData)
	})
	if err != nil {
		return err
	}
	if err := teeclient.WriteCertificate(o.out, key, der); err != nil {
		return fmt.Errorf("writing the certificate: %w", err)
	}
	fmt.Fprintf(stderr, "tee-login cert: minted %s/cert.pem, valid for %s\n", o.out, o.lifetime)
	return nil
}
