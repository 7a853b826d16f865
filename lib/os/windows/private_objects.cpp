#include "common.hpp"

#if DUCTILE_WINDOWS_BACKEND
// RtlGenRandom, advapi32's generator, which needs no provider opened first;
// <ntsecapi.h> needs <windows.h> first.
// clang-format off
#include "os/windows/private_objects.hpp"
#include <ntsecapi.h>
// clang-format on

namespace ductile::detail::windows {

struct owner_only_descriptor {
  alignas(8) unsigned char user[256];  // TOKEN_USER and the SID after it
  alignas(8) unsigned char acl[256];
  SECURITY_DESCRIPTOR descriptor;
  SECURITY_ATTRIBUTES attributes;
  bool ready = false;

  owner_only_descriptor() noexcept {
    HANDLE token = nullptr;
    if (!::OpenProcessToken(::GetCurrentProcess(), TOKEN_QUERY, &token)) return;
    DWORD size = 0;
    const BOOL read = ::GetTokenInformation(token, TokenUser, user, sizeof user, &size);
    ::CloseHandle(token);
    if (!read) return;
    PSID sid = reinterpret_cast<TOKEN_USER*>(user)->User.Sid;
    auto* list = reinterpret_cast<ACL*>(acl);
    // Inherited by what a directory holds, so its files are as private.
    if (!::InitializeAcl(list, sizeof acl, ACL_REVISION) ||
        !::AddAccessAllowedAceEx(list, ACL_REVISION, OBJECT_INHERIT_ACE | CONTAINER_INHERIT_ACE, GENERIC_ALL, sid))
      return;
    // Protected: a parent directory's inheritable entries (Users: read, say)
    // are not merged in.
    if (!::InitializeSecurityDescriptor(&descriptor, SECURITY_DESCRIPTOR_REVISION) ||
        !::SetSecurityDescriptorDacl(&descriptor, TRUE, list, FALSE) ||
        !::SetSecurityDescriptorControl(&descriptor, SE_DACL_PROTECTED, SE_DACL_PROTECTED))
      return;
    attributes.nLength = sizeof attributes;
    attributes.lpSecurityDescriptor = &descriptor;
    attributes.bInheritHandle = FALSE;
    ready = true;
  }
};

template <typename Text>
bool fill_random(Text& text, std::size_t from, std::size_t count) noexcept {
  static const char letters[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  unsigned char bytes[64];
  if (count > sizeof bytes || from + count > text.size()) return false;
  if (!::RtlGenRandom(bytes, static_cast<ULONG>(count))) return false;
  // 252 of 256 values keep the letters uniform; the rest are drawn again.
  for (std::size_t i = 0; i < count; ++i) {
    while (bytes[i] >= 252)
      if (!::RtlGenRandom(&bytes[i], 1)) return false;
    text[from + i] = static_cast<typename Text::value_type>(letters[bytes[i] % 36]);
  }
  return true;
}

DUCTILE_INLINE SECURITY_ATTRIBUTES* owner_only() noexcept {
  static owner_only_descriptor made;
  return made.ready ? &made.attributes : nullptr;
}

DUCTILE_INLINE bool fill_random_name(std::wstring& text, std::size_t from, std::size_t count) noexcept {
  return fill_random(text, from, count);
}

DUCTILE_INLINE bool fill_random_name(std::string& text, std::size_t from, std::size_t count) noexcept {
  return fill_random(text, from, count);
}

}  // namespace ductile::detail::windows
#endif
