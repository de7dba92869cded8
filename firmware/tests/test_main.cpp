// The firmware's host tests: runs every TEST; quiet unless something fails.
// Arguments: the serial test-vector files to check the codec against.
#include <stdlib.h>

#include "check.h"

namespace check {

static int failures;
static const char* current;

std::vector<Test>& registry() {
    static std::vector<Test> tests;
    return tests;
}

std::vector<std::string>& vectorFiles() {
    static std::vector<std::string> files;
    return files;
}

void fail(const char* file, int line, const std::string& what) {
    failures++;
    fprintf(stderr, "%s:%d: in %s: failed: %s\n", file, line, current, what.c_str());
}

}  // namespace check

int main(int argc, char** argv) {
    for (int i = 1; i < argc; i++) check::vectorFiles().push_back(argv[i]);
    for (const check::Test& test : check::registry()) {
        check::current = test.name;
        test.fn();
    }
    if (check::failures) {
        fprintf(stderr, "firmware host tests: %d failure(s)\n", check::failures);
        return 1;
    }
    return 0;
}
