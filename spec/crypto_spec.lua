-- mallapi.crypto: digests and HMAC against published vectors (RFC 1321, FIPS 180,
-- RFC 4231), ../shared/vectors/signing.json, and luaossl as a second oracle on
-- random inputs; random, nonce, uuid4, equals; exact argument errors.
local mallapi = require "mallapi"
local vectors = require "support.signing_vectors"
local arg_cases = require "support.arg_cases"
local ossl_digest = require "openssl.digest"
local ossl_hmac = require "openssl.hmac"

local crypto = mallapi.crypto
local arg_case, check, error_of = arg_cases.arg_case, arg_cases.check, arg_cases.error_of
local random_bytes = arg_cases.random_bytes

local function hex(s)
  return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

describe("crypto #c", function()
  describe("digest", function()
    it("matches the RFC 1321 MD5 test suite", function()
      local suite = {
        { "", "d41d8cd98f00b204e9800998ecf8427e" },
        { "a", "0cc175b9c0f1b6a831c399e269772661" },
        { "abc", "900150983cd24fb0d6963f7d28e17f72" },
        { "message digest", "f96b697d7cb7938d525a2f31aaf161d0" },
        { "abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b" },
        { "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
          "d174ab98d277d9f5a5611c2c9f419d9f" },
        { string.rep("1234567890", 8), "57edf4a22be3c955ac49da2e2107b67a" },
      }
      for _, case in ipairs(suite) do
        assert.equal(case[2], crypto.digest("md5", case[1]))
      end
    end)

    it("matches the FIPS 180 examples for SHA-1, SHA-256 and SHA-512", function()
      local m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
      local m896 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
        .. "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"
      local million_a = string.rep("a", 1000000)
      local suite = {
        { "sha1", "abc", "a9993e364706816aba3e25717850c26c9cd0d89d" },
        { "sha1", m448, "84983e441c3bd26ebaae4aa1f95129e5e54670f1" },
        { "sha1", million_a, "34aa973cd4c4daa4f61eeb2bdbad27316534016f" },
        { "sha256", "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
        { "sha256", m448, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
        { "sha256", million_a, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0" },
        { "sha512", "abc", "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
          .. "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f" },
        { "sha512", m448, "204a8fc6dda82f0a0ced7beb8e08a41657c16ef468b228a8279be331a703c335"
          .. "96fd15c13b1b07f9aa1d3bea57789ca031ad85c7a71dd70354ec631238ca3445" },
        { "sha512", m896, "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018"
          .. "501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909" },
        { "sha512", million_a, "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973eb"
          .. "de0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b" },
      }
      for _, case in ipairs(suite) do
        assert.equal(case[3], crypto.digest(case[1], case[2]), case[1] .. " of " .. #case[2] .. " bytes")
      end
    end)

    it("writes hex, HEX, raw and base64", function()
      local md = "900150983cd24fb0d6963f7d28e17f72"   -- RFC 1321 "abc"
      assert.equal(md, crypto.digest("md5", "abc", "hex"))
      assert.equal(md:upper(), crypto.digest("md5", "abc", "HEX"))
      assert.equal(md, hex(crypto.digest("md5", "abc", "raw")))
      assert.equal(16, #crypto.digest("md5", "abc", "raw"))
      -- RFC 4648 base64 of these 16 bytes (Python base64.b64encode)
      assert.equal("kAFQmDzST7DWlj99KOF/cg==", crypto.digest("md5", "abc", "base64"))
    end)

    it("signs the Sobot token as signing.json says", function()
      for _, case in ipairs(vectors.with_prefix("sobot.token_sign")) do
        local input = case.input
        assert.equal(case.expect.sign,
          crypto.digest("md5", input.appid .. input.create_time .. input.app_key), case.id)
      end
    end)

    it("agrees with luaossl on random inputs", function()
      math.randomseed(20261125)
      for _, alg in ipairs({ "md5", "sha1", "sha256", "sha512" }) do
        for _ = 1, 40 do
          local data = random_bytes(math.random(0, 300))
          assert.equal(hex(ossl_digest.new(alg):final(data)), crypto.digest(alg, data))
        end
      end
    end)
  end)

  describe("hmac", function()
    local key20, key131 = string.rep("\11", 20), string.rep("\170", 131)
    local key25 = {}
    for i = 1, 25 do key25[i] = string.char(i) end
    key25 = table.concat(key25)
    -- RFC 4231 test cases 1, 2, 3, 4, 6 and 7 (6 and 7: a key longer than the block)
    local rfc4231 = {
      { key20, "Hi There",
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
        "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
          .. "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854" },
      { "Jefe", "what do ya want for nothing?",
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
          .. "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737" },
      { string.rep("\170", 20), string.rep("\221", 50),
        "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
        "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39"
          .. "bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb" },
      { key25, string.rep("\205", 50),
        "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
        "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3db"
          .. "a91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd" },
      { key131, "Test Using Larger Than Block-Size Key - Hash Key First",
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
        "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
          .. "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598" },
      { key131, "This is a test using a larger than block-size key and a larger than block-size data."
          .. " The key needs to be hashed before being used by the HMAC algorithm.",
        "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
        "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944"
          .. "b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58" },
    }

    it("matches RFC 4231 for SHA-256 and SHA-512", function()
      for i, case in ipairs(rfc4231) do
        assert.equal(case[3], crypto.hmac("sha256", case[1], case[2]), "case " .. i)
        assert.equal(case[4], crypto.hmac("sha512", case[1], case[2]), "case " .. i)
        assert.equal(case[3]:upper(), crypto.hmac("sha256", case[1], case[2], "HEX"))
        assert.equal(case[3], hex(crypto.hmac("sha256", case[1], case[2], "raw")))
      end
    end)

    it("matches the hmac_sha256 cases of signing.json", function()
      for _, case in ipairs(vectors.with_prefix("hmac_sha256")) do
        assert.equal(case.expect.hex, crypto.hmac("sha256", case.input.key, case.input.data), case.id)
      end
    end)

    it("agrees with luaossl on random keys and data, including empty and long keys", function()
      math.randomseed(4231)
      for _, alg in ipairs({ "md5", "sha1", "sha256", "sha512" }) do
        for i = 1, 30 do
          local key = random_bytes(i == 1 and 0 or math.random(1, 200))
          local data = random_bytes(math.random(0, 300))
          assert.equal(hex(ossl_hmac.new(key, alg):final(data)), crypto.hmac(alg, key, data))
        end
      end
    end)
  end)

  describe("random, nonce, uuid4", function()
    it("random gives n bytes, different each time", function()
      for _, n in ipairs({ 0, 1, 16, 255, 256, 257, 4096 }) do
        assert.equal(n, #crypto.random(n))
      end
      assert.are_not.equal(crypto.random(32), crypto.random(32))
    end)

    it("nonce gives 2n lower-case hex digits, 32 by default", function()
      assert.matches("^" .. string.rep("%x", 32) .. "$", crypto.nonce())
      assert.is_nil(crypto.nonce():find("[A-F]"))
      assert.equal(16, #crypto.nonce(8))
      assert.equal("", crypto.nonce(0))
      assert.equal(2000, #crypto.nonce(1000))
      assert.are_not.equal(crypto.nonce(), crypto.nonce())
    end)

    it("uuid4 is an RFC 4122 version 4 UUID, never repeated", function()
      local seen = {}
      for _ = 1, 200 do
        local id = crypto.uuid4()
        assert.matches("^%x%x%x%x%x%x%x%x%-%x%x%x%x%-4%x%x%x%-[89ab]%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$", id)
        assert.is_nil(id:find("[A-F]"))
        assert.is_nil(seen[id])
        seen[id] = true
      end
    end)
  end)

  describe("equals", function()
    it("compares whole strings", function()
      local cases = {
        { "", "", true },
        { "abc", "abc", true },
        { "abc", "abd", false },
        { "abc", "ab", false },
        { "ab", "abc", false },
        { "", "a", false },
        { "a\0b", "a\0b", true },
        { "a\0b", "a\0c", false },
        { string.rep("x", 1000), string.rep("x", 1000), true },
        { string.rep("x", 999) .. "y", string.rep("x", 1000), false },
      }
      for i, case in ipairs(cases) do
        assert.equal(case[3], crypto.equals(case[1], case[2]), "case " .. i)
      end
    end)
  end)

  describe("argument errors", function()
    local cases = {
      arg_case(crypto.digest,
        "bad argument #1 to 'digest' (unknown algorithm 'md4', expected md5, sha1, sha256 or sha512)",
        "md4", "x"),
      arg_case(crypto.digest,
        "bad argument #1 to 'digest' (unknown algorithm 'MD5', expected md5, sha1, sha256 or sha512)",
        "MD5", "x"),
      arg_case(crypto.digest, "bad argument #1 to 'digest' (string expected, got table)", {}, "x"),
      arg_case(crypto.digest, "bad argument #2 to 'digest' (string expected, got table)", "md5", {}),
      arg_case(crypto.digest, "bad argument #2 to 'digest' (string expected, got no value)", "md5"),
      arg_case(crypto.digest,
        "bad argument #3 to 'digest' (unknown encoding 'hexa', expected hex, HEX, raw or base64)",
        "md5", "x", "hexa"),
      arg_case(crypto.digest, "bad argument #3 to 'digest' (string expected, got boolean)", "md5", "x", true),
      arg_case(crypto.hmac,
        "bad argument #1 to 'hmac' (unknown algorithm 'sha3', expected md5, sha1, sha256 or sha512)",
        "sha3", "k", "x"),
      arg_case(crypto.hmac, "bad argument #2 to 'hmac' (string expected, got nil)", "sha256", nil, "x"),
      arg_case(crypto.hmac, "bad argument #3 to 'hmac' (string expected, got table)", "sha256", "k", {}),
      arg_case(crypto.hmac,
        "bad argument #4 to 'hmac' (unknown encoding 'b64', expected hex, HEX, raw or base64)",
        "sha256", "k", "x", "b64"),
      arg_case(crypto.random, "bad argument #1 to 'random' (count must be between 0 and 16777216)", -1),
      arg_case(crypto.random, "bad argument #1 to 'random' (number has no integer representation)", 1.5),
      arg_case(crypto.random, "bad argument #1 to 'random' (number expected, got string)", "3"),
      arg_case(crypto.random, "bad argument #1 to 'random' (number expected, got no value)"),
      arg_case(crypto.nonce, "bad argument #1 to 'nonce' (count must be between 0 and 16777216)", -2),
      arg_case(crypto.equals, "bad argument #1 to 'equals' (string expected, got table)", {}, "a"),
      arg_case(crypto.equals, "bad argument #2 to 'equals' (string expected, got no value)", "a"),
    }
    for i, c in ipairs(cases) do
      it("case " .. i .. ": " .. c.msg, function() check(c) end)
    end

    it("never shows the HMAC key", function()
      local err = error_of(crypto.hmac, "md4", "TOP-SECRET-KEY", "data")
      assert.is_nil(err:find("TOP-SECRET-KEY", 1, true))
    end)
  end)
end)
