//go:build unix

package atomicfile

import "syscall"

// NoFollow makes an open fail with ELOOP when the last element of the path
// is a symbolic link. Files idpctl appends to or locks in its state
// directory (audit log, journals, locks) are opened with it: a link planted
// there by another user would otherwise redirect idpctl's writes, with its
// privileges, to a file of the planter's choice.
const NoFollow = syscall.O_NOFOLLOW
