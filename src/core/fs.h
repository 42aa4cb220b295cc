// The file system as every layer uses it: whole small files read and written (atomically), links
// read, and the checks a file must pass before tsnitch obeys what it says (config, rule files).
#pragma once

#include <dirent.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"

namespace tsnitch {

// "WHAT PATH: strerror(errno)", with errno as the code: the error of a failed call on a path.
Error errno_error(const std::string& what, const std::string& path);

// The whole of a small file: at most `limit` bytes are read (the rest is not).
Result<std::string> read_text_file(const std::string& path, size_t limit = 1 << 20);

// A symbolic link's target.
Result<std::string> read_link(const std::string& path);

// Writes `text` to `path` atomically: a temporary file in the same directory, mode 0600, fsync,
// rename, fsync of the directory. A reader sees the old file or the new one, never a part.
Status write_file_atomically(const std::string& path, std::string_view text);

// mkdir -p: the directories it creates get exactly `mode`, whatever the umask (the ones that exist
// are left as they are).
Status create_directories(const std::string& path, mode_t mode);

// The owners whose files tsnitch obeys: root and the user it runs as (as sshd's StrictModes).
struct FileTrust {
    uid_t uid = 0;  // the running user, besides root
    bool enforce = true;
    static FileTrust running_user();
};

// Why `what` (a path) must not be obeyed: not a regular file (or directory, for a directory),
// owned by someone else, or writable by group or others. "" when it may be.
// The message names the file, its owner and its mode: "rules/x.json: owned by uid 65534, mode
// 0666: writable by others; refused (must be root's, not group or world writable)".
std::string untrusted_reason(const std::string& path, const struct stat& st, const FileTrust& t,
                             bool directory);

// A file of settings, read the way tsnitch reads what it obeys: a regular file only (a FIFO,
// a device or a directory is an error naming it; it is never opened for reading in a way that
// blocks), at most `limit` bytes (more is an error, never a cut), and passing untrusted_reason.
Result<std::string> read_settings_file(const std::string& path, size_t limit,
                                       const FileTrust& trust);

// An open directory, closed when it goes out of scope.
struct DirCloser {
    void operator()(DIR* d) const { ::closedir(d); }
};
using UniqueDir = std::unique_ptr<DIR, DirCloser>;

}  // namespace tsnitch
