// What other users of the machine must not reach: the named pipes behind a
// run's streams and the library's private directories are the current
// user's alone, and the pipes' names cannot be guessed.
#include <algorithm>

#include "os/descriptor.hpp"
#include "os/system_calls.hpp"
#include "windows_support.hpp"
// After <windows.h>.
// clang-format off
#include <aclapi.h>
#include <sddl.h>
// clang-format on

using namespace ductile;
namespace sys = ductile::detail::sys;
namespace fs = std::filesystem;

namespace {

// The current user's SID, as text.
std::wstring own_user() {
  HANDLE token = nullptr;
  REQUIRE(OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token));
  alignas(8) unsigned char buffer[256];
  DWORD size = 0;
  REQUIRE(GetTokenInformation(token, TokenUser, buffer, sizeof buffer, &size));
  CloseHandle(token);
  wchar_t* text = nullptr;
  REQUIRE(ConvertSidToStringSidW(reinterpret_cast<TOKEN_USER*>(buffer)->User.Sid, &text));
  std::wstring sid = text;
  LocalFree(text);
  return sid;
}

// The SIDs of a DACL's access-allowed entries, and whether it has others.
struct access_list {
  std::vector<std::wstring> allowed;
  bool denies_anything = false;
};

access_list read_dacl(ACL* dacl) {
  access_list out;
  REQUIRE(dacl != nullptr);
  for (DWORD i = 0; i < dacl->AceCount; ++i) {
    void* entry = nullptr;
    REQUIRE(GetAce(dacl, i, &entry));
    auto* header = static_cast<ACE_HEADER*>(entry);
    if (header->AceType != ACCESS_ALLOWED_ACE_TYPE) {
      out.denies_anything = true;
      continue;
    }
    auto* allowed = static_cast<ACCESS_ALLOWED_ACE*>(entry);
    wchar_t* text = nullptr;
    REQUIRE(ConvertSidToStringSidW(&allowed->SidStart, &text));
    out.allowed.push_back(text);
    LocalFree(text);
  }
  return out;
}

std::wstring pipe_name(HANDLE pipe) {
  alignas(8) unsigned char buffer[1024];
  REQUIRE(GetFileInformationByHandleEx(pipe, FileNameInfo, buffer, sizeof buffer));
  auto* info = reinterpret_cast<FILE_NAME_INFO*>(buffer);
  return std::wstring(info->FileName, info->FileNameLength / sizeof(wchar_t));
}

}  // namespace

TEST_CASE("the pipes of a run are the current user's alone, under names nobody can guess") {
  const std::wstring user = own_user();
  std::vector<std::wstring> names;
  for (const bool parent_reads : {true, false, true}) {
    ductile::detail::pipe_ends ends;
    REQUIRE_FALSE(sys::make_parent_pipe(ends, parent_reads));
    const auto parent_end = reinterpret_cast<HANDLE>(_get_osfhandle(parent_reads ? ends.read.get() : ends.write.get()));
    PSECURITY_DESCRIPTOR descriptor = nullptr;
    ACL* dacl = nullptr;
    REQUIRE(GetSecurityInfo(parent_end, SE_KERNEL_OBJECT, DACL_SECURITY_INFORMATION, nullptr, nullptr, &dacl, nullptr,
                            &descriptor) == ERROR_SUCCESS);
    const auto list = read_dacl(dacl);
    LocalFree(descriptor);
    CHECK(list.allowed == std::vector<std::wstring>{user});
    CHECK_FALSE(list.denies_anything);
    names.push_back(pipe_name(parent_end));
  }
  const std::wstring pid = std::to_wstring(GetCurrentProcessId());
  for (std::size_t i = 0; i < names.size(); ++i) {
    CAPTURE(fs::path(names[i]).string());
    // 32 letters and digits from the system's generator: 165 bits.
    CHECK(names[i].size() >= 32);
    CHECK(names[i].find(L"-" + pid + L"-") == std::wstring::npos);
    for (std::size_t j = 0; j < i; ++j) CHECK(names[i] != names[j]);
  }
  // And a run through such pipes still works.
  CHECK(test::win_helper("echo", "private").read() == "private");
}

// Anyone the DACL of `path` lets in besides the current user and the system.
std::vector<std::wstring> others_allowed(const fs::path& path) {
  PSECURITY_DESCRIPTOR descriptor = nullptr;
  ACL* dacl = nullptr;
  REQUIRE(GetNamedSecurityInfoW(path.wstring().c_str(), SE_FILE_OBJECT, DACL_SECURITY_INFORMATION, nullptr, nullptr,
                                &dacl, nullptr, &descriptor) == ERROR_SUCCESS);
  const auto list = read_dacl(dacl);
  LocalFree(descriptor);
  const std::wstring user = own_user();
  CHECK(std::find(list.allowed.begin(), list.allowed.end(), user) != list.allowed.end());
  std::vector<std::wstring> others;
  for (const auto& sid : list.allowed)
    if (sid != user && sid != L"S-1-5-18") others.push_back(sid);
  return others;
}

TEST_CASE("a private directory lets in only the current user") {
  // Wine keeps no DACL on files: it reads one back from the Unix mode, which
  // it sets from the DACL given. Windows keeps the protected DACL itself.
  const fs::path parent = fs::temp_directory_path();
  std::string path = (parent / "ductile-test-XXXXXX").string();
  REQUIRE_FALSE(sys::make_private_directory(path));
  CAPTURE(path);
  CHECK(path.find("XXXXXX") == std::string::npos);
  CHECK(fs::is_directory(path));
  CHECK(others_allowed(path).empty());
  // The check sees others where they are let in: a directory made plainly.
  const fs::path plain = parent / ("ductile-plain-" + std::to_string(GetCurrentProcessId()));
  fs::create_directory(plain);
  CHECK_FALSE(others_allowed(plain).empty());
  std::string second = (parent / "ductile-test-XXXXXX").string();
  REQUIRE_FALSE(sys::make_private_directory(second));
  CHECK(second != path);
  fs::remove(path);
  fs::remove(second);
  fs::remove(plain);
}
