-- Digests for the sandbox's own signature checks, inside nginx: MD5 from ngx.md5, SHA-256 and
-- HMAC-SHA256 through LuaJIT FFI straight into OpenSSL's libcrypto (nginx links it already),
-- because Debian has no lua-resty-string. Nothing here comes from mallapi.
local ffi = require "ffi"
local bit = require "bit"

local M = {}

ffi.cdef [[
typedef struct evp_md_st EVP_MD;
const EVP_MD *EVP_sha256(void);
int EVP_Digest(const void *data, size_t count, unsigned char *md, unsigned int *size,
               const EVP_MD *type, void *impl);
unsigned char *HMAC(const EVP_MD *evp_md, const void *key, int key_len,
                    const unsigned char *d, size_t n, unsigned char *md, unsigned int *md_len);
]]

local function load_crypto()
  local ok = pcall(function() return ffi.C.EVP_sha256 end)
  if ok then return ffi.C end
  for _, name in ipairs { "crypto", "libcrypto.so.3", "libcrypto.so.1.1" } do
    local lib_ok, lib = pcall(ffi.load, name)
    if lib_ok then return lib end
  end
  error("sandbox.crypto: libcrypto not found")
end

local C = load_crypto()
local out = ffi.new("unsigned char[64]")
local out_len = ffi.new("unsigned int[1]")

local function hex(buf, n)
  local t = {}
  for i = 0, n - 1 do t[#t + 1] = string.format("%02x", buf[i]) end
  return table.concat(t)
end

function M.md5_hex(s)
  return ngx.md5(s)
end

function M.sha256_hex(s)
  assert(C.EVP_Digest(s, #s, out, out_len, C.EVP_sha256(), nil) == 1, "sandbox.crypto: sha256 failed")
  return hex(out, out_len[0])
end

function M.hmac_sha256_hex(key, s)
  assert(C.HMAC(C.EVP_sha256(), key, #key, s, #s, out, out_len) ~= nil, "sandbox.crypto: hmac failed")
  return hex(out, out_len[0])
end

-- Constant-time comparison of two strings (case as given).
function M.equal(a, b)
  if type(a) ~= "string" or type(b) ~= "string" or #a ~= #b then return false end
  local diff = 0
  for i = 1, #a do
    diff = bit.bor(diff, bit.bxor(a:byte(i), b:byte(i)))
  end
  return diff == 0
end

return M
