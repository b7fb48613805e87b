//go:build integration

package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Every long-lived process a test starts runs in a process group of its own (with whatever it
// starts: OpenBao's plugin processes), and is stopped as a group: by the test's cleanup, or, when
// the test binary dies without running cleanups (a -timeout panic, a SIGKILL), by the watchdog,
// which kills every group listed in WORK/pgids once the test binary is gone.

var pgidsMu sync.Mutex

// startGroup starts cmd as the leader of a new process group, which dies with the test binary
// (Pdeathsig) and is listed for the watchdog.
func startGroup(cmd *exec.Cmd) error {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return err
	}
	if sys != nil {
		pgidsMu.Lock()
		defer pgidsMu.Unlock()
		f, err := os.OpenFile(filepath.Join(sys.work, "pgids"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err == nil {
			fmt.Fprintln(f, cmd.Process.Pid)
			f.Close()
		}
	}
	return nil
}

// stopGroup signals cmd's group (SIGTERM), waits up to grace for the leader to exit, then kills
// whatever is left of the group: a plugin process outlives a killed server otherwise.
func stopGroup(cmd *exec.Cmd, grace time.Duration) {
	if cmd.Process == nil {
		return
	}
	pgid := cmd.Process.Pid
	syscall.Kill(-pgid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(grace):
	}
	syscall.Kill(-pgid, syscall.SIGKILL)
	<-done
}

// killGroup kills cmd's whole group at once (a node lost with its plugin processes).
func killGroup(cmd *exec.Cmd) {
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	cmd.Wait()
}

// startWatchdog starts a process, in a session of its own, that outlives the test binary: once
// the binary is gone it stops the stack (scripts/stack.sh stop) and kills the groups in
// WORK/pgids. After a clean run it finds nothing left to stop.
func (s *stack) startWatchdog() error {
	script := `while kill -0 "$1" 2>/dev/null; do sleep 1; done
[ -d "$2" ] || exit 0
"$3" stop "$2" >/dev/null 2>&1
[ -f "$2/pgids" ] && while read -r g; do kill -KILL -- "-$g" 2>/dev/null; done <"$2/pgids"
exit 0`
	c := exec.Command("sh", "-c", script, "watchdog", strconv.Itoa(os.Getpid()), s.work, filepath.Join(s.root, "scripts", "stack.sh"))
	c.Env = append(os.Environ(), "BUILD_DIR="+s.build)
	c.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := c.Start(); err != nil {
		return err
	}
	go c.Wait()
	return nil
}
