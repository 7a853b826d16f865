// docs/from-bash.md cannot rot: both sides of every recipe run, each in an
// empty directory, and must print the same bytes and end with the same status.
#include <signal.h>

#include <fstream>
#include <sstream>

#include "support.hpp"

using namespace ductile;
using namespace std::chrono_literals;

namespace {

const std::string tool = DUCTILE_SCRIPT_COMMAND;

struct recipe {
  std::string title;
  std::string bash;
  std::string cpp;
  std::string interrupt_after;  // a line after which the test presses Ctrl-C
  std::vector<std::string> arguments;
};

struct cookbook {
  std::string skeleton;  // the file every C++ fragment is the body of
  std::vector<recipe> recipes;
};

// `one "two words"` -> {one, two words}
std::vector<std::string> words_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string word;
  while (in >> std::ws && !in.eof()) {
    if (in.peek() == '"') {
      in.get();
      std::getline(in, word, '"');
    } else {
      in >> word;
    }
    out.push_back(word);
  }
  return out;
}

cookbook read_cookbook(const test::fs::path& file) {
  std::ifstream in(file);
  REQUIRE(in);
  cookbook book;
  recipe current;
  std::string line;
  std::string* block = nullptr;
  std::string skeleton_block;
  const auto finish = [&] {
    if (!current.title.empty()) book.recipes.push_back(current);
    current = recipe{};
  };
  while (std::getline(in, line)) {
    if (block != nullptr) {
      if (line == "```")
        block = nullptr;
      else
        *block += line + "\n";
    } else if (line.rfind("### ", 0) == 0) {
      finish();
      current.title = line.substr(4);
    } else if (line == "```bash") {
      block = &current.bash;
    } else if (line == "```cpp") {
      block = current.title.empty() ? &book.skeleton : &current.cpp;
    } else if (line.rfind("<!-- test: interrupt after ", 0) == 0) {
      current.interrupt_after = line.substr(27, line.size() - 27 - 4);
    } else if (line.rfind("<!-- test: arguments ", 0) == 0) {
      current.arguments = words_of(line.substr(21, line.size() - 21 - 4));
    }
  }
  finish();
  return book;
}

// The fragment in place of the skeleton's `// the recipe` line, indented.
std::string script_of(const std::string& skeleton, const std::string& fragment) {
  const std::string marker = "    // the recipe\n";
  const std::size_t at = skeleton.find(marker);
  REQUIRE(at != std::string::npos);
  std::string body;
  std::istringstream in(fragment);
  for (std::string line; std::getline(in, line);) body += (line.empty() ? "" : "    ") + line + "\n";
  return skeleton.substr(0, at) + body + skeleton.substr(at + marker.size());
}

struct result {
  std::string stdout_bytes;
  std::string stderr_bytes;
  exit_status status;
};

result run_side(expression side, const std::string& interrupt_after) {
  side = side.stderr_capture().unchecked().timeout(240s);
  if (interrupt_after.empty()) {
    const output o = side.stdout_capture().run();
    return {o.stdout_bytes, o.stderr_bytes, o.status};
  }
  // Ctrl-C as a terminal sends it: SIGINT to the whole foreground group.
  reader_handle running = side.new_process_group().reader();
  result r;
  std::string line;
  while (running.read_line_for(line, 240s) == true) {
    r.stdout_bytes += line + "\n";
    if (line == interrupt_after) {
      ::kill(-running.pids().at(0), SIGINT);
      break;
    }
  }
  while (running.read_line_for(line, 30s) == true) r.stdout_bytes += line + "\n";
  const output& o = running.wait();
  r.stderr_bytes = o.stderr_bytes;
  r.status = o.status;
  return r;
}

}  // namespace

TEST_CASE("cookbook: every recipe of docs/from-bash.md does in C++ what its bash does") {
  if (tool.empty()) {
    MESSAGE("skipped: the single-header build makes no ductile-script");
    return;
  }
  test::leak_check check;
  const cookbook book = read_cookbook(test::fs::path(DUCTILE_DOCS) / "from-bash.md");
  REQUIRE(book.skeleton.find("#!/usr/bin/env ductile-script") == 0);
  // Every idiom the page promises is there.
  std::string titles;
  for (const recipe& r : book.recipes) titles += r.title + "\n";
  for (const char* idiom :
       {"pipefail", "$(...)", "PIPESTATUS", ">f 2>&1", "`&&`, `||`, `;`", "trap", "wait", "xargs -P", "timeout",
        "coproc", "Here-strings", "while read", "-print0", "ssh host", "make -j"})
    CHECK_MESSAGE(titles.find(idiom) != std::string::npos, "no recipe for " << idiom);

  test::temp_dir home;
  // ssh that runs the command here, as a remote shell would: the words after
  // the host joined by spaces and split again.
  const auto bin = home / "bin";
  test::fs::create_directory(bin);
  test::write_file(bin / "ssh",
                   "#!/bin/sh\n"
                   "while :; do case \"$1\" in -o) shift 2 ;; -*) shift ;; *) break ;; esac; done\n"
                   "shift\nexec sh -c \"$*\"\n");
  test::fs::permissions(bin / "ssh", test::fs::perms::owner_all);
  const std::string path = bin.string() + ":" + test::fs::path(tool).parent_path().string() + ":" + std::getenv("PATH");

  int number = 0;
  for (const recipe& r : book.recipes) {
    ++number;
    CAPTURE(r.title);
    REQUIRE_FALSE(r.bash.empty());
    REQUIRE_FALSE(r.cpp.empty());
    const auto bash_dir = home / ("bash-" + std::to_string(number));
    const auto cpp_dir = home / ("cpp-" + std::to_string(number));
    test::fs::create_directory(bash_dir);
    test::fs::create_directory(cpp_dir);
    const auto bash_file = home / ("recipe-" + std::to_string(number) + ".sh");
    const auto cpp_file = home / ("recipe-" + std::to_string(number) + ".cpp");
    test::write_file(bash_file, r.bash);
    test::write_file(cpp_file, script_of(book.skeleton, r.cpp));
    test::fs::permissions(cpp_file, test::fs::perms::owner_all);

    const auto environment = [&](expression e) {
      return e.env("PATH", path).env("XDG_CACHE_HOME", (home / "cache").string()).env("LC_ALL", "C");
    };
    const result from_bash =
        run_side(environment(cmd("bash", bash_file, r.arguments).dir(bash_dir)), r.interrupt_after);
    // Run as a user runs a script: the file itself, through its shebang.
    const result from_cpp = run_side(environment(cmd(cpp_file, r.arguments).dir(cpp_dir)), r.interrupt_after);
    INFO("bash stderr: " << from_bash.stderr_bytes);
    INFO("ductile stderr: " << from_cpp.stderr_bytes);
    CHECK(from_cpp.stdout_bytes == from_bash.stdout_bytes);
    CHECK(from_cpp.status.code() == from_bash.status.code());
    CHECK(from_cpp.status.signal() == from_bash.status.signal());
    // Both sides did something a reader can see.
    CHECK_FALSE(from_bash.stdout_bytes.empty());
  }
  CHECK(number >= 15);
}

TEST_CASE("round 3 defect 19: every complete program in docs/tutorial.md compiles, runs and prints what it says") {
  if (tool.empty()) {
    MESSAGE("skipped: the single-header build makes no ductile-script");
    return;
  }
  test::leak_check check;
  // The ```cpp blocks that are whole programs (an #include and a main()), each
  // with the ```text block after it, if any, that says what it prints.
  std::ifstream in(test::fs::path(DUCTILE_DOCS) / "tutorial.md");
  REQUIRE(in);
  std::vector<std::pair<std::string, std::string>> programs;
  std::string line, block, kind;
  bool inside = false;
  while (std::getline(in, line)) {
    if (!inside && line.rfind("```", 0) == 0 && line.size() > 3) {
      inside = true;
      kind = line.substr(3);
      block.clear();
      continue;
    }
    if (inside && line == "```") {
      inside = false;
      if (kind == "cpp" && block.find("#include") != std::string::npos && block.find("int main(") != std::string::npos)
        programs.emplace_back(block, "");
      if (kind == "text" && !programs.empty() && programs.back().second.empty()) programs.back().second = block;
      continue;
    }
    if (inside) block += line + "\n";
  }
  REQUIRE_FALSE(programs.empty());
  test::temp_dir home;
  int number = 0;
  for (const auto& [text, expected] : programs) {
    CAPTURE(number);
    const auto file = home / ("program-" + std::to_string(number++) + ".cpp");
    test::write_file(file, text);
    const output o = cmd(tool, file)
                         .env("XDG_CACHE_HOME", (home / "cache").string())
                         .stdout_capture()
                         .stderr_capture()
                         .unchecked()
                         .run();
    CHECK(o.status.success());
    CHECK(o.stderr_bytes.empty());
    if (!expected.empty()) CHECK(o.stdout_bytes == expected);
  }
}
