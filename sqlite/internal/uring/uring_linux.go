//go:build linux

package uring

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// The kernel's interface (include/uapi/linux/io_uring.h). The three system
// calls have the same numbers on every architecture.
const (
	sysSetup    = 425
	sysEnter    = 426
	sysRegister = 427

	opFsync         = 3 // IORING_OP_FSYNC
	fsyncDatasync   = 1 // IORING_FSYNC_DATASYNC
	registerEventfd = 4 // IORING_REGISTER_EVENTFD
	offSQRing       = 0 // IORING_OFF_SQ_RING
	offSQEs         = 0x10000000
	featSingleMmap  = 1 // IORING_FEAT_SINGLE_MMAP (Linux 5.4)

	entries = 2 // one sync at a time; the smallest ring there is, but one
)

type sqOffsets struct {
	head, tail, ringMask, ringEntries, flags, dropped, array, resv1 uint32
	userAddr                                                        uint64
}

type cqOffsets struct {
	head, tail, ringMask, ringEntries, overflow, cqes, flags, resv1 uint32
	userAddr                                                        uint64
}

type params struct {
	sqEntries, cqEntries, flags, sqThreadCPU, sqThreadIdle, features, wqFd uint32
	resv                                                                   [3]uint32
	sqOff                                                                  sqOffsets
	cqOff                                                                  cqOffsets
}

// sqe is a submission queue entry (64 bytes).
type sqe struct {
	opcode   uint8
	flags    uint8
	ioprio   uint16
	fd       int32
	off      uint64
	addr     uint64
	len      uint32
	opFlags  uint32
	userData uint64
	_        [3]uint64
}

// cqe is a completion queue entry (16 bytes).
type cqe struct {
	userData uint64
	res      int32
	flags    uint32
}

type ring struct {
	mu     sync.Mutex
	fd     int
	mem    []byte // the submission and completion rings, mapped once
	sqeMem []byte // the submission queue entries
	ev     *os.File
	broken error // set when the ring can no longer be used

	sqTail, sqArray, cqHead, cqTail *uint32
	sqMask, cqMask                  uint32
	cqes                            unsafe.Pointer
	seq                             uint64
	buf                             [8]byte
}

func (r *ring) setup() error {
	var p params
	fd, _, errno := syscall.Syscall(sysSetup, entries, uintptr(unsafe.Pointer(&p)), 0)
	if errno != 0 {
		return fmt.Errorf("%w: io_uring_setup: %w", ErrUnsupported, errno)
	}
	r.fd = int(fd)
	if err := r.mapRings(&p); err != nil {
		r.close()
		return err
	}
	efd, _, errno := syscall.Syscall(syscall.SYS_EVENTFD2, 0, syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if errno != 0 {
		r.close()
		return fmt.Errorf("%w: eventfd: %w", ErrUnsupported, errno)
	}
	// Non-blocking, so os.NewFile hands it to the network poller.
	r.ev = os.NewFile(efd, "io_uring eventfd")
	efd32 := int32(efd)
	if _, _, errno := syscall.Syscall6(sysRegister, uintptr(r.fd), registerEventfd, uintptr(unsafe.Pointer(&efd32)), 1, 0, 0); errno != 0 {
		r.close()
		return fmt.Errorf("%w: register eventfd: %w", ErrUnsupported, errno)
	}
	return nil
}

func (r *ring) mapRings(p *params) error {
	if p.features&featSingleMmap == 0 {
		return fmt.Errorf("%w: the kernel's io_uring predates Linux 5.4", ErrUnsupported)
	}
	size := p.sqOff.array + p.sqEntries*4
	if c := p.cqOff.cqes + p.cqEntries*uint32(unsafe.Sizeof(cqe{})); c > size {
		size = c
	}
	mem, err := syscall.Mmap(r.fd, offSQRing, int(size), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED|syscall.MAP_POPULATE)
	if err != nil {
		return fmt.Errorf("%w: map the rings: %w", ErrUnsupported, err)
	}
	r.mem = mem
	sqes, err := syscall.Mmap(r.fd, offSQEs, int(p.sqEntries)*int(unsafe.Sizeof(sqe{})), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED|syscall.MAP_POPULATE)
	if err != nil {
		return fmt.Errorf("%w: map the submission entries: %w", ErrUnsupported, err)
	}
	r.sqeMem = sqes
	base := unsafe.Pointer(&mem[0])
	at := func(off uint32) *uint32 { return (*uint32)(unsafe.Add(base, off)) }
	r.sqTail, r.sqArray, r.sqMask = at(p.sqOff.tail), at(p.sqOff.array), *at(p.sqOff.ringMask)
	r.cqHead, r.cqTail, r.cqMask = at(p.cqOff.head), at(p.cqOff.tail), *at(p.cqOff.ringMask)
	r.cqes = unsafe.Add(base, p.cqOff.cqes)
	return nil
}

func (r *ring) close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var errs []error
	if r.ev != nil {
		errs = append(errs, r.ev.Close())
		r.ev = nil
	}
	if r.sqeMem != nil {
		errs = append(errs, syscall.Munmap(r.sqeMem))
		r.sqeMem = nil
	}
	if r.mem != nil {
		errs = append(errs, syscall.Munmap(r.mem))
		r.mem = nil
	}
	if r.fd > 0 {
		errs = append(errs, syscall.Close(r.fd))
		r.fd = -1
	}
	r.broken = errors.New("uring: closed")
	return errors.Join(errs...)
}

func (r *ring) datasync(f *os.File) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.broken != nil {
		return fmt.Errorf("%w: %w", ErrUnsupported, r.broken)
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var submitErr error
	if err := rc.Control(func(fd uintptr) { submitErr = r.submit(int32(fd)) }); err != nil {
		return err
	}
	if submitErr != nil {
		// The sync was not submitted: the caller can make it another way.
		r.broken = submitErr
		return fmt.Errorf("%w: %w", ErrUnsupported, submitErr)
	}
	res, err := r.wait()
	if err != nil {
		// The sync may still be running; the ring is not used again, and
		// the caller, told to sync another way, syncs all the same.
		r.broken = err
		return fmt.Errorf("%w: %w", ErrUnsupported, err)
	}
	if res < 0 {
		errno := syscall.Errno(-res)
		if errno == syscall.EINVAL || errno == syscall.EOPNOTSUPP {
			// The kernel cannot sync this file through the ring.
			return fmt.Errorf("%w: %w", ErrUnsupported, errno)
		}
		return errno
	}
	return nil
}

// submit queues one fdatasync of fd and hands it to the kernel.
func (r *ring) submit(fd int32) error {
	r.seq++
	tail := atomic.LoadUint32(r.sqTail)
	i := tail & r.sqMask
	*(*sqe)(unsafe.Add(unsafe.Pointer(&r.sqeMem[0]), uintptr(i)*unsafe.Sizeof(sqe{}))) = sqe{
		opcode: opFsync, fd: fd, opFlags: fsyncDatasync, userData: r.seq,
	}
	*(*uint32)(unsafe.Add(unsafe.Pointer(r.sqArray), 4*uintptr(i))) = i
	atomic.StoreUint32(r.sqTail, tail+1) // the entry is written before the kernel can see it
	for {
		// min_complete 0: this only submits, and returns at once. A
		// sync cannot be done without waiting, so the kernel hands it to
		// one of its workers.
		n, _, errno := syscall.Syscall6(sysEnter, uintptr(r.fd), 1, 0, 0, 0, 0)
		switch {
		case errno == syscall.EINTR:
			continue
		case errno != 0:
			return fmt.Errorf("io_uring_enter: %w", errno)
		case n != 1:
			return fmt.Errorf("io_uring_enter submitted %d entries, not 1", n)
		}
		return nil
	}
}

// wait waits for the completion of the sync last submitted and returns its
// result: 0, or minus the error number.
func (r *ring) wait() (int32, error) {
	for {
		head := atomic.LoadUint32(r.cqHead)
		if head != atomic.LoadUint32(r.cqTail) {
			c := (*cqe)(unsafe.Add(r.cqes, uintptr(head&r.cqMask)*unsafe.Sizeof(cqe{})))
			res, seq := c.res, c.userData
			atomic.StoreUint32(r.cqHead, head+1)
			if seq == r.seq {
				return res, nil
			}
			continue // an earlier sync's, given up on
		}
		// The kernel adds to the eventfd's count after posting each
		// completion; reading it parks this goroutine in the poller until
		// then. A count left from a completion already taken only makes
		// the loop look at the ring once more.
		if _, err := r.ev.Read(r.buf[:]); err != nil {
			return 0, fmt.Errorf("read the eventfd: %w", err)
		}
	}
}
