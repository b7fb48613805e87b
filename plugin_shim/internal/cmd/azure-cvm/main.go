// Command azure-cvm (TEST ONLY, for scripts/demo.sh) stands in for an Azure confidential VM on a
// machine without one: it starts swtpm provisioned as the VM's vTPM, whose HCL report's hardware
// report the test TEE made (tee-testgen; only a sidecar started with --test-roots accepts it), and
// serves the stand-in for the Azure service tee-login asks (THIM for SEV-SNP, the quote service
// for TDX) on loopback. It prints one JSON line, then runs until SIGTERM or SIGINT:
//
//	{"tpm": "<swtpm socket>", "service_flag": "-azure-thim-url", "service_url": "http://127.0.0.1:…",
//	 "pcr4": "<hex>", "pcr11": "<hex>"}
//
//	azure-cvm -kind snp|tdx -dir DIR -testgen build/verifier/tee-testgen -profile PROFILE
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/google/go-tpm/tpm2/transport/linuxudstpm"
	"github.com/vault-plugin-auth-tee/plugin_shim/internal/azurevtpm"
)

func main() {
	kind := flag.String("kind", "snp", `"snp" or "tdx"`)
	dir := flag.String("dir", "", "directory for the vTPM's state and the test TEE's files")
	testgen := flag.String("testgen", "tee-testgen", "the test TEE (tee-testgen)")
	profile := flag.String("profile", "", "the test TEE's profile")
	flag.Parse()
	if err := run(*kind, *dir, azurevtpm.TestTEE{Testgen: *testgen, Profile: *profile, Dir: *dir}); err != nil {
		fmt.Fprintln(os.Stderr, "azure-cvm:", err)
		os.Exit(1)
	}
}

func run(kind, dir string, tee azurevtpm.TestTEE) error {
	if dir == "" || tee.Profile == "" {
		return errors.New("-dir and -profile are required")
	}
	vtpm, err := azurevtpm.Launch(dir, os.Stderr, 2*time.Minute)
	if err != nil {
		return err
	}
	defer vtpm.Stop()
	tpm, err := linuxudstpm.Open(vtpm.Socket)
	if err != nil {
		return err
	}
	ak, err := azurevtpm.CreateAK(tpm)
	if err == nil {
		var cvm *azurevtpm.CVM
		if cvm, err = azurevtpm.ProvisionCVM(tpm, tee, kind, ak); err == nil {
			tpm.Close()
			return serve(vtpm.Socket, cvm)
		}
	}
	tpm.Close()
	return err
}

func serve(sock string, cvm *azurevtpm.CVM) error {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	server := &http.Server{Handler: cvm.Service, ReadHeaderTimeout: 10 * time.Second}
	go server.Serve(listener)
	defer server.Close()
	if err := json.NewEncoder(os.Stdout).Encode(map[string]string{"tpm": sock, "service_flag": cvm.ServiceFlag,
		"service_url": "http://" + listener.Addr().String(), "pcr4": cvm.PCR4, "pcr11": cvm.PCR11}); err != nil {
		return err
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
	return nil
}
