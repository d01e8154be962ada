//go:build !unix

package atomicfile

// NoFollow is zero where the system has no O_NOFOLLOW; on Windows creating
// a symbolic link needs a privilege ordinary users lack.
const NoFollow = 0
