// check: a tiny test harness for the firmware's host tests (no dependencies).
#ifndef WALKIE_TESTS_CHECK_H
#define WALKIE_TESTS_CHECK_H

#include <stdio.h>

#include <string>
#include <vector>

namespace check {

struct Test {
    const char* name;
    void (*fn)();
};

std::vector<Test>& registry();
void fail(const char* file, int line, const std::string& what);
// Vector files named on the command line.
std::vector<std::string>& vectorFiles();

struct Registrar {
    Registrar(const char* name, void (*fn)()) { registry().push_back(Test{name, fn}); }
};

template <typename A, typename B>
void expectEqual(const A& a, const B& b, const char* as, const char* bs, const char* file,
                 int line) {
    if (!(a == b)) fail(file, line, std::string(as) + " == " + bs);
}

}  // namespace check

#define TEST(name)                                             \
    static void name();                                        \
    static check::Registrar registrar_##name(#name, name);     \
    static void name()

#define CHECK(cond)                                                  \
    do {                                                             \
        if (!(cond)) check::fail(__FILE__, __LINE__, #cond);         \
    } while (0)

#define CHECK_EQ(a, b) check::expectEqual((a), (b), #a, #b, __FILE__, __LINE__)

#endif
