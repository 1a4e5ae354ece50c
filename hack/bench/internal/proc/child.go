package proc

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Child is a process a benchmark started with StartChild: in a process group of its own, its
// output in a log file, killed with the benchmark (Pdeathsig follows the thread that started
// it, so the benchmark keeps its main goroutine on the main thread: runtime.LockOSThread in an
// init of package main).
type Child struct {
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
}

// StartChild starts cmd with its stdout and stderr in the file logPath.
func StartChild(cmd *exec.Cmd, logPath string) (*Child, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", cmd.Path, err)
	}
	c := &Child{cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() { c.err = cmd.Wait(); close(c.done) }()
	return c, nil
}

// Pid is the child's process ID.
func (c *Child) Pid() int { return c.cmd.Process.Pid }

// Log is the path of the child's log.
func (c *Child) Log() string { return c.log }

// Alive is nil while the child runs, else its exit and the end of its log.
func (c *Child) Alive() error {
	select {
	case <-c.done:
		return fmt.Errorf("%s exited (%v); end of its log %s:\n%s", c.cmd.Path, c.err, c.log, Tail(c.log, 20))
	default:
		return nil
	}
}

// Failed returns the child's exit if it exited, else err: an error reading /proc of a child
// is most often its death.
func (c *Child) Failed(err error) error {
	if dead := c.Alive(); dead != nil {
		return dead
	}
	return err
}

// Stop ends the child's process group: SIGTERM, then SIGKILL after 10 s.
func (c *Child) Stop() {
	pgid := c.Pid()
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-c.done
	}
}

// Tail returns the last n lines of the file path, or why it cannot.
func Tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Memory returns the resident set of pid and its peak (VmRSS and VmHWM), in bytes.
func Memory(pid int) (rss, peak int64, err error) {
	p := strconv.Itoa(pid)
	if rss, err = Status(p, "VmRSS"); err != nil {
		return 0, 0, err
	}
	peak, err = Status(p, "VmHWM")
	return rss, peak, err
}

// Children returns the processes whose parent is ppid, by name (the command name of
// /proc/PID/stat), such as the etcd and kube-apiserver a test control plane runs.
func Children(ppid int) map[int]string {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int]string{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		open, end := strings.IndexByte(string(data), '('), strings.LastIndexByte(string(data), ')')
		if open < 0 || end < open {
			continue
		}
		f := strings.Fields(string(data[end+1:]))
		if len(f) > 1 && f[1] == strconv.Itoa(ppid) {
			children[pid] = string(data[open+1 : end])
		}
	}
	return children
}
