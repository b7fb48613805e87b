package main

// tee-login exec: the nonce flow for a process that needs the token itself, with no file in
// between. It logs in, starts the command with the token in its environment only (VAULT_TOKEN,
// BAO_TOKEN), renews the token while the role still admits the login (the plugin re-evaluates the
// saved evidence at every renewal), and stops the command once the token is gone: its max TTL
// reached, or renewals refused until it expired (the watcher ends just before the expiry; the
// rest of the token is revoked). The command cannot serve on a token it no longer
// holds; a supervisor (systemd Restart=) runs tee-login exec again, which attests afresh.
//
// The stock agent does this for the certificate path (docs/workloads.md); behind a
// TLS-terminating load balancer, where only the nonce flow works, this is its counterpart.

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/vault/api"
)

// How long the command has to exit after SIGTERM before it is killed.
const execStopGrace = 10 * time.Second

func runExec(args []string, stderr io.Writer) int {
	opts, argv, err := parseExecFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "tee-login exec: %v\n", err)
		return 2
	}
	secret, err := login(opts)
	if err != nil {
		fmt.Fprintf(stderr, "tee-login exec: %v\n", err)
		return 1
	}
	client, err := apiClient(opts.address)
	if err != nil {
		fmt.Fprintf(stderr, "tee-login exec: %v\n", err)
		return 1
	}
	client.SetToken(secret.Auth.ClientToken)
	// Renewal errors are retried until the token expires: a refused renewal (the role no longer
	// admits the evidence) ends the token within its TTL, a transient one does not stop the command.
	watcher, err := client.NewLifetimeWatcher(&api.LifetimeWatcherInput{Secret: secret,
		RenewBehavior: api.RenewBehaviorIgnoreErrors})
	if err != nil {
		fmt.Fprintf(stderr, "tee-login exec: %v\n", err)
		return 1
	}

	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = commandEnv(os.Environ(), client.Address(), secret.Auth.ClientToken)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, stderr
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(stderr, "tee-login exec: %v\n", err)
		return 1
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	go watcher.Start()
	defer watcher.Stop()

	for {
		select {
		case err := <-exited:
			client.Auth().Token().RevokeSelf("") // the token dies with its command
			return exitCode(err, stderr)
		case s := <-signals:
			cmd.Process.Signal(s)
		case err := <-watcher.DoneCh():
			if err != nil {
				fmt.Fprintf(stderr, "tee-login exec: the token could not be renewed: %v\n", err)
			}
			fmt.Fprintf(stderr, "tee-login exec: the token is gone; stopping %s\n", argv[0])
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(execStopGrace):
				cmd.Process.Kill()
				<-exited
			}
			client.Auth().Token().RevokeSelf("") // what is left of it
			return 1
		case <-watcher.RenewCh():
		}
	}
}

// parseExecFlags takes the login flags, then "--" and the command.
func parseExecFlags(args []string, stderr io.Writer) (*options, []string, error) {
	split := -1
	for i, a := range args {
		if a == "--" {
			split = i
			break
		}
	}
	if split < 0 || split == len(args)-1 {
		return nil, nil, errors.New("usage: tee-login exec -role=R [login flags] -- command [args]")
	}
	opts, err := parseFlags(args[:split], stderr)
	if err != nil {
		return nil, nil, err
	}
	if opts.field != "" || opts.evidenceFile != "" {
		return nil, nil, errors.New("-field, -token-only and -evidence-file do not apply to exec")
	}
	return opts, args[split+1:], nil
}

// commandEnv is env without any token or address of its own, plus the server's address and the
// token under both products' names.
func commandEnv(env []string, address, token string) []string {
	out := make([]string, 0, len(env)+4)
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "VAULT_TOKEN", "BAO_TOKEN", "VAULT_ADDR", "BAO_ADDR":
			continue
		}
		out = append(out, kv)
	}
	return append(out, "VAULT_ADDR="+address, "BAO_ADDR="+address, "VAULT_TOKEN="+token, "BAO_TOKEN="+token)
}

// exitCode passes the command's exit status on (128+n for a signal, as shells do).
func exitCode(err error, stderr io.Writer) int {
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exitErr):
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return exitErr.ExitCode()
	default:
		fmt.Fprintf(stderr, "tee-login exec: %v\n", err)
		return 1
	}
}
