//go:build linux

package flush

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"unsafe"
)

// The kernel's interface (include/uapi/linux/aio_abi.h).
const (
	cmdFdsync = 3 // IOCB_CMD_FDSYNC (Linux 4.18)
	flagResfd = 1 // IOCB_FLAG_RESFD: signal the completion on aio_resfd
)

// iocb is struct iocb (64 bytes). aio_key and aio_rw_flags trade places on
// big-endian machines; both are zero here.
type iocb struct {
	data      uint64
	key       uint32
	rwFlags   int32
	opcode    uint16
	reqprio   int16
	fildes    uint32
	buf       uint64
	nbytes    uint64
	offset    int64
	reserved2 uint64
	flags     uint32
	resfd     uint32
}

// ioEvent is struct io_event (32 bytes).
type ioEvent struct {
	data uint64
	obj  uint64
	res  int64
	res2 int64
}

type aio struct {
	mu     sync.Mutex
	ctx    uintptr  // aio_context_t
	ev     *os.File // the eventfd completions are signalled on
	broken error    // set when the context can no longer be used
	seq    uint64
	buf    [8]byte
}

func (a *aio) setup() error {
	if _, _, errno := syscall.Syscall(syscall.SYS_IO_SETUP, 1, uintptr(unsafe.Pointer(&a.ctx)), 0); errno != 0 {
		return fmt.Errorf("%w: io_setup: %w", ErrUnsupported, errno)
	}
	efd, _, errno := syscall.Syscall(syscall.SYS_EVENTFD2, 0, syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if errno != 0 {
		a.close()
		return fmt.Errorf("%w: eventfd: %w", ErrUnsupported, errno)
	}
	// Non-blocking, so os.NewFile hands it to the network poller.
	a.ev = os.NewFile(efd, "fdatasync completions")
	return nil
}

func (a *aio) close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	var errs []error
	if a.ctx != 0 {
		// io_destroy waits for a flush still in flight.
		if _, _, errno := syscall.Syscall(syscall.SYS_IO_DESTROY, a.ctx, 0, 0); errno != 0 {
			errs = append(errs, fmt.Errorf("io_destroy: %w", errno))
		}
		a.ctx = 0
	}
	if a.ev != nil {
		errs = append(errs, a.ev.Close())
		a.ev = nil
	}
	a.broken = errors.New("closed")
	return errors.Join(errs...)
}

func (a *aio) datasync(f *os.File) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.broken != nil {
		return fmt.Errorf("%w: %w", ErrUnsupported, a.broken)
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var submitErr error
	if err := rc.Control(func(fd uintptr) { submitErr = a.submit(fd) }); err != nil {
		return err
	}
	if submitErr != nil {
		// Not submitted: the caller can flush another way. EINVAL is a
		// kernel before 4.18, or a file that cannot be flushed at all,
		// which fdatasync then says.
		return fmt.Errorf("%w: %w", ErrUnsupported, submitErr)
	}
	res, err := a.wait()
	if err != nil {
		// The flush may still be in flight; this context is not used
		// again, and the caller, told to flush another way, flushes all
		// the same.
		a.broken = err
		return fmt.Errorf("%w: %w", ErrUnsupported, err)
	}
	if res < 0 {
		return syscall.Errno(-res)
	}
	return nil
}

// submit hands the kernel one fdatasync of fd.
func (a *aio) submit(fd uintptr) error {
	a.seq++
	cb := &iocb{data: a.seq, opcode: cmdFdsync, fildes: uint32(fd), flags: flagResfd, resfd: uint32(a.ev.Fd())}
	for {
		// The kernel copies the iocb before io_submit returns.
		n, _, errno := syscall.Syscall(syscall.SYS_IO_SUBMIT, a.ctx, 1, uintptr(unsafe.Pointer(&cb)))
		switch {
		case errno == syscall.EINTR:
			continue
		case errno != 0:
			return fmt.Errorf("io_submit: %w", errno)
		case n != 1:
			return fmt.Errorf("io_submit took %d requests, not 1", n)
		}
		return nil
	}
}

// wait waits for the completion of the flush last submitted and returns its
// result: 0, or minus the error number.
func (a *aio) wait() (int64, error) {
	var ev ioEvent
	var zero syscall.Timespec
	for {
		// The kernel adds to the eventfd's count when a flush completes;
		// reading it parks this goroutine in the poller until then.
		if _, err := a.ev.Read(a.buf[:]); err != nil {
			return 0, fmt.Errorf("read the eventfd: %w", err)
		}
		for {
			n, _, errno := syscall.Syscall6(syscall.SYS_IO_GETEVENTS, a.ctx, 0, 1,
				uintptr(unsafe.Pointer(&ev)), uintptr(unsafe.Pointer(&zero)), 0)
			if errno == syscall.EINTR {
				continue
			}
			if errno != 0 {
				return 0, fmt.Errorf("io_getevents: %w", errno)
			}
			if n == 0 {
				break // a count left over: wait again
			}
			if ev.data == a.seq {
				return ev.res, nil
			}
			// An earlier flush's completion, given up on: look again.
		}
	}
}
