// core/fs.h: whole files read and written, and the checks a file must pass to be obeyed.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/fs.h"

using namespace tsnitch;

namespace {

struct TempDir {
    std::string path;
    TempDir() {
        char t[] = "/tmp/tsnitch-fs-test-XXXXXX";
        REQUIRE(::mkdtemp(t) != nullptr);
        path = t;
    }
    ~TempDir() { std::filesystem::remove_all(path); }
    std::string file(const std::string& name, const std::string& text, mode_t mode = 0600) const {
        const std::string p = path + "/" + name;
        std::ofstream(p) << text;
        REQUIRE(::chmod(p.c_str(), mode) == 0);
        return p;
    }
};

const FileTrust kTrust = FileTrust::running_user();

}  // namespace

TEST_CASE("a settings file is read whole when it is a small regular file of ours") {
    TempDir d;
    auto text = read_settings_file(d.file("a.json", "{}"), 100, kTrust);
    REQUIRE(text.ok());
    CHECK(*text == "{}");
}

TEST_CASE("a settings file larger than the limit is an error, not a cut") {
    TempDir d;
    auto text = read_settings_file(d.file("big.json", std::string(101, 'x')), 100, kTrust);
    REQUIRE(!text.ok());
    CHECK(text.error().message.find("big.json: larger than 100 bytes") != std::string::npos);
    CHECK(read_settings_file(d.file("fits.json", std::string(100, 'x')), 100, kTrust).ok());
}

TEST_CASE("a FIFO, a device or a directory is refused by name, without blocking") {
    TempDir d;
    const std::string fifo = d.path + "/fifo";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    auto f = read_settings_file(fifo, 100, kTrust);  // with no writer: must not wait for one
    REQUIRE(!f.ok());
    CHECK(f.error().message == fifo + ": a FIFO, not a regular file");
    auto z = read_settings_file("/dev/zero", 100, kTrust);
    REQUIRE(!z.ok());
    CHECK(z.error().message == "/dev/zero: a character device, not a regular file");
    auto dir = read_settings_file(d.path, 100, kTrust);
    REQUIRE(!dir.ok());
    CHECK(dir.error().message == d.path + ": a directory, not a regular file");
}

TEST_CASE("a file others can write to is refused with its owner and mode") {
    TempDir d;
    auto w = read_settings_file(d.file("w.json", "{}", 0666), 100, kTrust);
    REQUIRE(!w.ok());
    CHECK(w.error().message.find(d.path + "/w.json: owned by uid " + std::to_string(::geteuid())) ==
          0);
    CHECK(w.error().message.find("mode 0666: writable by others; refused") != std::string::npos);
    auto g = read_settings_file(d.file("g.json", "{}", 0620), 100, kTrust);
    REQUIRE(!g.ok());
    CHECK(g.error().message.find("mode 0620: writable by its group") != std::string::npos);
    // Checks off (an import the person vouches for): read.
    CHECK(read_settings_file(d.file("o.json", "{}", 0666), 100, FileTrust{0, false}).ok());
}

TEST_CASE("a file of another owner is refused") {
    struct stat st {};
    st.st_mode = S_IFREG | 0644;
    st.st_uid = 4242;
    const FileTrust root{0, true};
    const std::string why = untrusted_reason("/x/r.json", st, root, false);
    CHECK(why.find("/x/r.json: owned by uid 4242") == 0);
    CHECK(why.find("mode 0644: not owned by root; refused") != std::string::npos);
    st.st_uid = 0;
    CHECK(untrusted_reason("/x/r.json", st, root, false).empty());
    st.st_mode = S_IFDIR | 0777;
    CHECK(untrusted_reason("/x", st, root, true).find("mode 0777: writable by others") !=
          std::string::npos);
    st.st_mode = S_IFDIR | 0755;
    CHECK(untrusted_reason("/x", st, root, true).empty());
    CHECK(untrusted_reason("/x", st, root, false) == "/x: a directory, not a regular file");
}

TEST_CASE("directories are created with exactly the mode asked, whatever the umask") {
    TempDir d;
    const mode_t old = ::umask(0);
    const Status s = create_directories(d.path + "/a/b", 0755);
    ::umask(077);
    const Status s2 = create_directories(d.path + "/c", 0755);
    ::umask(old);
    REQUIRE(s.ok());
    REQUIRE(s2.ok());
    struct stat st {};
    REQUIRE(::stat((d.path + "/a/b").c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0755);
    REQUIRE(::stat((d.path + "/c").c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0755);
}

TEST_CASE("a file written atomically is complete, mode 0600, and leaves no temporary file") {
    TempDir d;
    const mode_t old = ::umask(0);
    const Status s = write_file_atomically(d.path + "/r.json", "{\"a\":1}\n");
    ::umask(old);
    REQUIRE(s.ok());
    auto text = read_text_file(d.path + "/r.json");
    REQUIRE(text.ok());
    CHECK(*text == "{\"a\":1}\n");
    struct stat st {};
    REQUIRE(::stat((d.path + "/r.json").c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0600);
    int entries = 0;
    for (const auto& e : std::filesystem::directory_iterator(d.path)) {
        (void)e;
        ++entries;
    }
    CHECK(entries == 1);
}
