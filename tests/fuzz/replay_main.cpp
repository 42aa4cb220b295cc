// A main for fuzz targets built without libFuzzer: feeds every file of the corpus directories (or
// files) named on the command line to LLVMFuzzerTestOneInput, then every prefix of each and a few
// deterministic mutations, so the corpus is a regression test in every build.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

// Each input in a buffer of its own size, so that an over-read runs off an allocation.
void run(const Bytes& input) {
    Bytes copy(input);
    LLVMFuzzerTestOneInput(copy.data(), copy.size());
}

uint64_t next_random(uint64_t& state) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
        return 2;
    }
    std::vector<fs::path> files;
    for (int i = 1; i < argc; ++i) {
        std::error_code ec;
        fs::path p = argv[i];
        if (fs::is_directory(p, ec)) {
            for (const auto& e : fs::directory_iterator(p, ec))
                if (e.is_regular_file()) files.push_back(e.path());
        } else if (fs::is_regular_file(p, ec)) {
            files.push_back(p);
        } else {
            std::fprintf(stderr, "%s: no such corpus file or directory\n", argv[i]);
            return 1;
        }
    }
    std::sort(files.begin(), files.end());

    size_t inputs = 0;
    run({});
    ++inputs;
    uint64_t state = 0x9e3779b97f4a7c15ull;
    for (const fs::path& path : files) {
        std::ifstream f(path, std::ios::binary);
        if (!f) {
            std::fprintf(stderr, "%s: cannot read\n", path.c_str());
            return 1;
        }
        Bytes data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        run(data);
        ++inputs;
        for (size_t len = 0; len < data.size(); ++len, ++inputs)
            run(Bytes(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(len)));
        // Flip a few random bytes of each seed; the sequence is fixed, so failures reproduce.
        for (int round = 0; round < 256 && !data.empty(); ++round, ++inputs) {
            Bytes m = data;
            int flips = 1 + static_cast<int>(next_random(state) % 4);
            for (int k = 0; k < flips; ++k)
                m[next_random(state) % m.size()] = static_cast<uint8_t>(next_random(state));
            run(m);
        }
    }
    std::printf("replayed %zu inputs from %zu corpus files\n", inputs, files.size());
    return 0;
}
