//go:build !unix

package atomicfile

// Windows has no umask: who may read a file is its folder's ACL.
const umask = 0
