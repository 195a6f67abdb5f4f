// Generates keys and tokens for the auth unit tests with an implementation independent of ours:
// the npm package `jsonwebtoken` (v9) and node's crypto (EdDSA and hand-made headers, which
// jsonwebtoken does not produce). Usage: node make_fixtures.mjs OUTDIR
// Writes key files and OUTDIR/manifest.json:
//   { now, options, keysets: {name: KeyConfig}, cases: [{name, keyset, token, expected, ...}],
//     load_errors: [{name, keyset, error_contains}] }
// `expected` is "ok" or an AuthError code. Exit status 77 when jsonwebtoken cannot be found.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);  // honours NODE_PATH
let jwt;
try {
  jwt = require('jsonwebtoken');
} catch {
  console.error('make_fixtures: the npm package jsonwebtoken is not installed (npm ci, or NODE_PATH)');
  process.exit(77);
}

const out = path.resolve(process.argv[2] ?? '');
if (!process.argv[2] || !fs.existsSync(out)) {
  console.error('usage: node make_fixtures.mjs OUTDIR (an existing directory)');
  process.exit(2);
}

const NOW = 1700000000;
const ISS = 'https://api.daheim.test';
const AUD = 'daheim-live';
const options = { issuers: [ISS, 'https://old-api.daheim.test'], audiences: [AUD], leeway_s: 30 };

const write = (name, text) => {
  const p = path.join(out, name);
  fs.writeFileSync(p, text);
  return p;
};
const b64u = (buf) => Buffer.from(buf).toString('base64url');

// ---- keys ----------------------------------------------------------------------------------
const secret = (bytes) => crypto.randomBytes(bytes).toString('base64');  // printable text
const hs256 = secret(32);       // 44 characters
const hs256old = secret(32);
const hs384 = secret(48);       // 64
const hs512 = secret(64);       // 88
const gen = (type, opts) => crypto.generateKeyPairSync(type, opts);
const rsa = gen('rsa', { modulusLength: 2048 });
const rsaPss = gen('rsa', { modulusLength: 2048 });
const rsaOther = gen('rsa', { modulusLength: 2048 });
const rsaSmall = gen('rsa', { modulusLength: 1024 });
const ec256 = gen('ec', { namedCurve: 'P-256' });
const ec384 = gen('ec', { namedCurve: 'P-384' });
const ed = gen('ed25519');
const jwksRsaA = gen('rsa', { modulusLength: 2048 });
const jwksRsaB = gen('rsa', { modulusLength: 3072 });
const jwksEc256 = gen('ec', { namedCurve: 'P-256' });
const jwksEc384 = gen('ec', { namedCurve: 'P-384' });
const jwksEd = gen('ed25519');
const jwksEnc = gen('rsa', { modulusLength: 2048 });
const jwksOct = crypto.randomBytes(64);
const ec521 = gen('ec', { namedCurve: 'P-521' });

const spki = (kp) => kp.publicKey.export({ type: 'spki', format: 'pem' });
const files = {
  hs256: write('hs256.secret', hs256 + '\n'),  // a trailing newline, as an editor leaves it
  hs256old: write('hs256-old.secret', hs256old),
  hs384: write('hs384.secret', hs384 + '\r\n'),
  hs512: write('hs512.secret', hs512),
  short: write('short.secret', 'too-short-for-hs256\n'),
  rsa: write('rsa.pem', spki(rsa)),
  rsaPkcs1: write('rsa-pkcs1.pem', rsa.publicKey.export({ type: 'pkcs1', format: 'pem' })),
  rsaPss: write('rsa-pss.pem', spki(rsaPss)),
  rsaSmall: write('rsa-1024.pem', spki(rsaSmall)),
  rsaPrivate: write('rsa-private.pem', rsa.privateKey.export({ type: 'pkcs8', format: 'pem' })),
  ec256: write('ec256.pem', spki(ec256)),
  ec384: write('ec384.pem', spki(ec384)),
  ed: write('ed25519.pem', spki(ed)),
  garbage: write('garbage.pem', '-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5\n-----END PUBLIC KEY-----\n'),
};

const jwk = (kp, extra) => ({ ...kp.publicKey.export({ format: 'jwk' }), ...extra });
const jwks = {
  keys: [
    jwk(jwksRsaA, { kid: 'jwks-rsa-a', alg: 'RS256', use: 'sig' }),
    jwk(jwksRsaB, { kid: 'jwks-rsa-b' }),                 // no alg: RS256 inferred
    jwk(jwksEc256, { kid: 'jwks-ec256' }),                // no alg: ES256 from crv
    jwk(jwksEc384, { kid: 'jwks-ec384', alg: 'ES384' }),
    jwk(jwksEd, { kid: 'jwks-ed' }),                      // OKP Ed25519: EdDSA
    { kty: 'oct', kid: 'jwks-oct', alg: 'HS512', k: b64u(jwksOct) },
    jwk(jwksEnc, { kid: 'jwks-enc', use: 'enc', alg: 'RSA-OAEP' }),  // skipped
  ],
};
files.jwks = write('jwks.json', JSON.stringify(jwks, null, 2));
files.jwksP521 = write('jwks-p521.json', JSON.stringify({ keys: [jwk(ec521, { kid: 'p521' })] }));
files.jwksPrivate = write('jwks-private.json', JSON.stringify({
  keys: [{ ...ec256.privateKey.export({ format: 'jwk' }), kid: 'priv' }],
}));
files.jwksDup = write('jwks-dup.json', JSON.stringify({ keys: [jwk(ec256, { kid: 'rs256' })] }));
files.jwksBadAlg = write('jwks-badalg.json', JSON.stringify({
  keys: [jwk(ec256, { kid: 'mismatch', alg: 'ES384' })],
}));
files.notJson = write('not-json.json', '{"keys": [');

const keysets = {
  main: {
    hmac_secret_files: [
      { path: files.hs256 },                     // alg defaults to HS256, no kid
      { path: files.hs256old, alg: 'HS256' },    // a second kid-less HS256 key (rotation)
      { path: files.hs384, alg: 'HS384', kid: 'hs384' },
      { path: files.hs512, alg: 'HS512', kid: 'hs512' },
    ],
    pem_files: [
      { path: files.rsa, alg: 'RS256', kid: 'rs256' },
      { path: files.rsa, alg: 'RS384', kid: 'rs384' },
      { path: files.rsaPkcs1, alg: 'RS512', kid: 'rs512' },
      { path: files.rsaPss, alg: 'PS256', kid: 'ps256' },
      { path: files.rsaPss, alg: 'PS384', kid: 'ps384' },
      { path: files.rsaPss, alg: 'PS512', kid: 'ps512' },
      { path: files.ec256, alg: 'ES256' },       // no kid
      { path: files.ec384, alg: 'ES384', kid: 'es384' },
      { path: files.ed, alg: 'EdDSA', kid: 'ed25519' },
    ],
    jwks_files: [files.jwks],
  },
  rsa_only: { pem_files: [{ path: files.rsa, alg: 'RS256' }] },
  empty: {},
};
const bad = (name, keyset, error_contains) => ({ name, keyset, error_contains });
const load_errors = [
  bad('missing_file', { hmac_secret_files: [{ path: path.join(out, 'nope.secret') }] }, 'nope.secret: cannot open'),
  bad('short_secret', { hmac_secret_files: [{ path: files.short }] }, 'at least 32'),
  bad('hs512_secret_too_short', { hmac_secret_files: [{ path: files.hs256, alg: 'HS512' }] }, 'at least 64'),
  bad('secret_with_rsa_alg', { hmac_secret_files: [{ path: files.hs256, alg: 'RS256' }] }, 'HS256, HS384 or HS512'),
  bad('pem_without_alg', { pem_files: [{ path: files.rsa, alg: '' }] }, 'alg is required'),
  bad('pem_unknown_alg', { pem_files: [{ path: files.rsa, alg: 'RS1' }] }, "unsupported alg 'RS1'"),
  bad('pem_none_alg', { pem_files: [{ path: files.rsa, alg: 'none' }] }, "unsupported alg 'none'"),
  bad('pem_hmac_alg', { pem_files: [{ path: files.rsa, alg: 'HS256' }] }, 'HMAC secret'),
  bad('rsa_for_es256', { pem_files: [{ path: files.rsa, alg: 'ES256' }] }, 'EC P-256'),
  bad('p256_for_es384', { pem_files: [{ path: files.ec256, alg: 'ES384' }] }, 'EC P-384'),
  bad('ec_for_rs256', { pem_files: [{ path: files.ec256, alg: 'RS256' }] }, 'RSA key'),
  bad('rsa_for_eddsa', { pem_files: [{ path: files.rsa, alg: 'EdDSA' }] }, 'Ed25519'),
  bad('rsa_1024', { pem_files: [{ path: files.rsaSmall, alg: 'RS256' }] }, '2048'),
  bad('private_pem', { pem_files: [{ path: files.rsaPrivate, alg: 'RS256' }] }, 'private key'),
  bad('garbage_pem', { pem_files: [{ path: files.garbage, alg: 'RS256' }] }, 'not a PEM public key'),
  bad('duplicate_kid', { pem_files: [{ path: files.rsa, alg: 'RS256', kid: 'rs256' }], jwks_files: [files.jwksDup] }, "duplicate kid 'rs256'"),
  bad('jwks_p521', { jwks_files: [files.jwksP521] }, 'unsupported EC curve'),
  bad('jwks_private', { jwks_files: [files.jwksPrivate] }, 'private key material'),
  bad('jwks_alg_mismatch', { jwks_files: [files.jwksBadAlg] }, 'EC P-384'),
  bad('jwks_not_json', { jwks_files: [files.notJson] }, 'not-json.json: not valid JSON'),
];

// ---- tokens --------------------------------------------------------------------------------
const base = { sub: 'alice', role: 'student', iss: ISS, aud: AUD, iat: NOW - 60, exp: NOW + 3600 };
const claims = (extra = {}) => {
  const c = { ...base, ...extra };
  for (const [k, v] of Object.entries(c)) if (v === undefined) delete c[k];
  return c;
};
// jsonwebtoken signs exactly these claims: no timestamp of its own (iat is in `base`).
// jsonwebtoken keeps a given iat; noTimestamp stops it adding one (and would drop a given one).
const sign = (payload, key, alg, kid, header) =>
  jwt.sign(payload, key, {
    algorithm: alg,
    ...(payload.iat === undefined ? { noTimestamp: true } : {}),
    ...(kid ? { keyid: kid } : {}),
    ...(header ? { header } : {}),
  });
// Hand-made JWS for what jsonwebtoken will not produce.
const manual = (header, payloadText, signer) => {
  const input = `${b64u(JSON.stringify(header))}.${b64u(payloadText)}`;
  return `${input}.${b64u(signer(Buffer.from(input)))}`;
};
const hmac = (digest, key) => (data) => crypto.createHmac(digest, key).update(data).digest();
const edSign = (key) => (data) => crypto.sign(null, data, key);

const cases = [];
const add = (name, token, expected, extra = {}) => cases.push({ name, keyset: 'main', token, expected, ...extra });
const ok = (name, token, extra = {}) => add(name, token, 'ok', { user_id: 'alice', role: 'student', ...extra });

// Every algorithm, by kid and without.
ok('hs256_no_kid', sign(claims(), hs256, 'HS256'), { kid: '' });
ok('hs256_old_secret_no_kid', sign(claims(), hs256old, 'HS256'));
ok('hs384_kid', sign(claims(), hs384, 'HS384', 'hs384'), { kid: 'hs384' });
ok('hs512_kid', sign(claims(), hs512, 'HS512', 'hs512'));
ok('rs256_kid', sign(claims(), rsa.privateKey, 'RS256', 'rs256'), { kid: 'rs256' });
ok('rs384_kid', sign(claims(), rsa.privateKey, 'RS384', 'rs384'));
ok('rs512_kid_pkcs1_pem', sign(claims(), rsa.privateKey, 'RS512', 'rs512'));
ok('ps256_kid', sign(claims(), rsaPss.privateKey, 'PS256', 'ps256'));
ok('ps384_kid', sign(claims(), rsaPss.privateKey, 'PS384', 'ps384'));
ok('ps512_kid', sign(claims(), rsaPss.privateKey, 'PS512', 'ps512'));
ok('es256_no_kid', sign(claims(), ec256.privateKey, 'ES256'), { kid: '' });
ok('es384_kid', sign(claims(), ec384.privateKey, 'ES384', 'es384'));
ok('eddsa_kid', manual({ alg: 'EdDSA', typ: 'JWT', kid: 'ed25519' }, JSON.stringify(claims()), edSign(ed.privateKey)), { kid: 'ed25519' });
ok('eddsa_no_kid', manual({ alg: 'EdDSA' }, JSON.stringify(claims()), edSign(ed.privateKey)));
ok('jwks_rsa_a', sign(claims(), jwksRsaA.privateKey, 'RS256', 'jwks-rsa-a'), { kid: 'jwks-rsa-a' });
ok('jwks_rsa_b_inferred_rs256', sign(claims(), jwksRsaB.privateKey, 'RS256', 'jwks-rsa-b'), { kid: 'jwks-rsa-b' });
ok('jwks_ec256_inferred', sign(claims(), jwksEc256.privateKey, 'ES256', 'jwks-ec256'));
ok('jwks_ec384', sign(claims(), jwksEc384.privateKey, 'ES384', 'jwks-ec384'));
ok('jwks_okp_ed25519', manual({ alg: 'EdDSA', kid: 'jwks-ed' }, JSON.stringify(claims()), edSign(jwksEd.privateKey)));
ok('jwks_oct_hs512', sign(claims(), jwksOct, 'HS512', 'jwks-oct'), { kid: 'jwks-oct' });
add('jwks_enc_key_skipped', sign(claims(), jwksEnc.privateKey, 'RS256', 'jwks-enc'), 'unknown_key');
ok('rsa_only_no_kid', sign(claims(), rsa.privateKey, 'RS256'), { keyset: 'rsa_only' });

// User id and role.
ok('id_claim_fallback_number', sign(claims({ sub: undefined, id: 42 }), hs256, 'HS256'), { user_id: '42' });
ok('id_claim_fallback_string', sign(claims({ sub: undefined, id: 'u-7' }), hs256, 'HS256'), { user_id: 'u-7' });
ok('empty_sub_falls_back_to_id', sign(claims({ sub: '', id: 'bob' }), hs256, 'HS256'), { user_id: 'bob' });
ok('no_role', sign(claims({ role: undefined }), hs256, 'HS256'), { role: '' });
ok('teacher_role', sign(claims({ role: 'teacher' }), hs256, 'HS256'), { role: 'teacher' });
add('no_user_id', sign(claims({ sub: undefined }), hs256, 'HS256'), 'malformed');
add('user_id_object', sign(claims({ sub: { a: 1 } }), hs256, 'HS256'), 'malformed');
add('user_id_fraction', sign(claims({ sub: undefined, id: 1.5 }), hs256, 'HS256'), 'malformed');

// Time claims and leeway (30 s).
add('expired', sign(claims({ exp: NOW - 100 }), hs256, 'HS256'), 'token_expired');
ok('expired_within_leeway', sign(claims({ exp: NOW - 29 }), hs256, 'HS256'));
add('expired_at_leeway_edge', sign(claims({ exp: NOW - 30 }), hs256, 'HS256'), 'token_expired');
add('expired_rsa', sign(claims({ exp: NOW - 3600 }), rsa.privateKey, 'RS256', 'rs256'), 'token_expired');
add('not_yet_valid', sign(claims({ nbf: NOW + 100 }), hs256, 'HS256'), 'token_not_yet_valid');
ok('nbf_within_leeway', sign(claims({ nbf: NOW + 30 }), hs256, 'HS256'));
add('nbf_past_leeway', sign(claims({ nbf: NOW + 31 }), hs256, 'HS256'), 'token_not_yet_valid');
add('iat_in_future', sign(claims({ iat: NOW + 100 }), hs256, 'HS256'), 'token_not_yet_valid');
ok('no_exp', sign(claims({ exp: undefined }), hs256, 'HS256'), { expires_at: 0 });
ok('fractional_exp', sign(claims({ exp: NOW + 0.5 }), hs256, 'HS256'), { expires_at: NOW });
add('exp_string', manual({ alg: 'HS256' }, JSON.stringify(claims({ exp: String(NOW + 3600) })), hmac('sha256', hs256)), 'malformed');
add('nbf_bool', manual({ alg: 'HS256' }, JSON.stringify(claims({ nbf: true })), hmac('sha256', hs256)), 'malformed');
ok('max_age_ok', sign(claims({ iat: NOW - 100 }), hs256, 'HS256'), { max_age_s: 300 });
add('max_age_exceeded', sign(claims({ iat: NOW - 400 }), hs256, 'HS256'), 'token_expired', { max_age_s: 300 });
ok('max_age_within_leeway', sign(claims({ iat: NOW - 320 }), hs256, 'HS256'), { max_age_s: 300 });
add('max_age_without_iat', sign(claims({ iat: undefined }), hs256, 'HS256'), 'malformed', { max_age_s: 300 });
ok('later_now_still_valid', sign(claims(), hs256, 'HS256'), { now: NOW + 3000 });
add('later_now_expired', sign(claims(), hs256, 'HS256'), 'token_expired', { now: NOW + 3630 });

// Issuer and audience.
add('wrong_issuer', sign(claims({ iss: 'https://evil.test' }), hs256, 'HS256'), 'invalid_issuer');
add('missing_issuer', sign(claims({ iss: undefined }), hs256, 'HS256'), 'invalid_issuer');
add('issuer_not_string', sign(claims({ iss: 7 }), hs256, 'HS256'), 'invalid_issuer');
ok('second_issuer', sign(claims({ iss: 'https://old-api.daheim.test' }), hs256, 'HS256'));
add('wrong_audience', sign(claims({ aud: 'someone-else' }), hs256, 'HS256'), 'invalid_audience');
add('missing_audience', sign(claims({ aud: undefined }), hs256, 'HS256'), 'invalid_audience');
ok('audience_list', sign(claims({ aud: ['other', AUD] }), hs256, 'HS256'));
add('audience_list_wrong', sign(claims({ aud: ['other', 'more'] }), hs256, 'HS256'), 'invalid_audience');
add('audience_case', sign(claims({ aud: 'Daheim-Live' }), hs256, 'HS256'), 'invalid_audience');

// Signatures.
add('wrong_hmac_secret', sign(claims(), secret(32), 'HS256'), 'invalid_signature');
add('wrong_rsa_key', sign(claims(), rsaOther.privateKey, 'RS256', 'rs256'), 'invalid_signature');
add('wrong_ec_key', sign(claims(), ec384.privateKey, 'ES384', 'jwks-ec384'), 'invalid_signature');
add('wrong_ed_key', manual({ alg: 'EdDSA', kid: 'ed25519' }, JSON.stringify(claims()), edSign(jwksEd.privateKey)), 'invalid_signature');
add('ps_token_for_rs_key', sign(claims(), rsa.privateKey, 'PS256', 'rs256'), 'algorithm_not_allowed');
{
  const [h, , s] = sign(claims(), rsa.privateKey, 'RS256', 'rs256').split('.');
  add('tampered_payload', `${h}.${b64u(JSON.stringify(claims({ role: 'teacher' })))}.${s}`, 'invalid_signature');
  add('empty_signature', `${h}.${b64u(JSON.stringify(claims()))}.`, 'invalid_signature');
}
{
  const [h, p, s] = sign(claims(), ec256.privateKey, 'ES256').split('.');
  const der = crypto.sign('sha256', Buffer.from(`${h}.${p}`), { key: ec256.privateKey, dsaEncoding: 'der' });
  add('es256_der_signature', `${h}.${p}.${b64u(der)}`, 'invalid_signature');
  add('es256_signature_short', `${h}.${p}.${b64u(Buffer.from(s, 'base64url').subarray(0, 63))}`, 'invalid_signature');
  add('es256_signature_long', `${h}.${p}.${b64u(Buffer.concat([Buffer.from(s, 'base64url'), Buffer.alloc(1)]))}`, 'invalid_signature');
}

// Algorithm attacks.
add('alg_none', sign(claims(), undefined, 'none'), 'algorithm_not_allowed');
add('alg_none_with_kid', manual({ alg: 'none', kid: 'rs256' }, JSON.stringify(claims()), () => Buffer.alloc(0)), 'algorithm_not_allowed');
add('alg_none_uppercase', manual({ alg: 'NONE' }, JSON.stringify(claims()), () => Buffer.alloc(0)), 'algorithm_not_allowed');
add('alg_unsupported_es512', manual({ alg: 'ES512' }, JSON.stringify(claims()), () => Buffer.alloc(132)), 'algorithm_not_allowed');
add('alg_lowercase_hs256', manual({ alg: 'hs256' }, JSON.stringify(claims()), hmac('sha256', hs256)), 'algorithm_not_allowed');
add('alg_missing', manual({ typ: 'JWT' }, JSON.stringify(claims()), hmac('sha256', hs256)), 'malformed');
add('alg_not_string', manual({ alg: 256 }, JSON.stringify(claims()), hmac('sha256', hs256)), 'malformed');
// HS/RS confusion: an HMAC over the token keyed with the RSA public key's PEM text.
const rsaPemText = fs.readFileSync(files.rsa);
add('hs_rs_confusion_kid', manual({ alg: 'HS256', typ: 'JWT', kid: 'rs256' }, JSON.stringify(claims()), hmac('sha256', rsaPemText)), 'algorithm_not_allowed');
add('hs_rs_confusion_rsa_only', manual({ alg: 'HS256', typ: 'JWT' }, JSON.stringify(claims()), hmac('sha256', rsaPemText)), 'algorithm_not_allowed', { keyset: 'rsa_only' });
add('hs_rs_confusion_no_kid', manual({ alg: 'HS256', typ: 'JWT' }, JSON.stringify(claims()), hmac('sha256', rsaPemText)), 'invalid_signature');
add('hs_token_for_jwks_rsa', manual({ alg: 'HS256', kid: 'jwks-rsa-a' }, JSON.stringify(claims()), hmac('sha256', rsaPemText)), 'algorithm_not_allowed');
add('rs384_with_rs256_kid', sign(claims(), rsa.privateKey, 'RS384', 'rs256'), 'algorithm_not_allowed');
add('es256_no_store_key_for_alg', sign(claims(), ec256.privateKey, 'ES256'), 'algorithm_not_allowed', { keyset: 'rsa_only' });
add('unknown_kid', sign(claims(), rsa.privateKey, 'RS256', 'nope'), 'unknown_key');
add('empty_kid', sign(claims(), hs256, 'HS256', undefined, { kid: '' }), 'unknown_key');
add('kid_not_string', manual({ alg: 'HS256', kid: 5 }, JSON.stringify(claims()), hmac('sha256', hs256)), 'malformed');
add('empty_store', sign(claims(), hs256, 'HS256'), 'unknown_key', { keyset: 'empty' });
add('crit_header', sign(claims(), hs256, 'HS256', undefined, { crit: ['exp'] }), 'malformed');
add('embedded_jwk_ignored', manual({ alg: 'RS256', jwk: rsaOther.publicKey.export({ format: 'jwk' }) }, JSON.stringify(claims()), (d) => crypto.sign('sha256', d, rsaOther.privateKey)), 'invalid_signature');

// Structure.
const good = sign(claims(), hs256, 'HS256');
const [gh, gp, gs] = good.split('.');
add('missing_token', '', 'missing_token');
add('truncated_two_parts', `${gh}.${gp}`, 'malformed');
add('truncated_one_part', gh, 'malformed');
add('truncated_mid_payload', good.slice(0, gh.length + 1 + 10), 'malformed');
add('truncated_signature_bytes', `${gh}.${gp}.${b64u(Buffer.from(gs, 'base64url').subarray(0, 31))}`, 'invalid_signature');
add('truncated_signature_chars', good.slice(0, -2), 'malformed');  // 41 characters: not base64url
add('four_parts', `${good}.${gs}`, 'malformed');
add('jwe_five_parts', `${gh}.a.b.c.d`, 'malformed');
add('bad_base64url_char', `${gh}.${gp.slice(0, 5)}!${gp.slice(6)}.${gs}`, 'malformed');
add('bad_base64url_padding', `${gh}==.${gp}.${gs}`, 'malformed');
add('base64_not_url_alphabet', `${gh}.${gp}.${Buffer.from(gs, 'base64url').toString('base64').replace(/=+$/, '')}`, gs.includes('-') || gs.includes('_') ? 'malformed' : 'ok', { user_id: 'alice', role: 'student' });
add('whitespace_in_token', `${gh}. ${gp}.${gs}`, 'malformed');
add('non_json_header', `${b64u('not json')}.${gp}.${gs}`, 'malformed');
add('header_json_array', `${b64u('["HS256"]')}.${gp}.${gs}`, 'malformed');
add('header_duplicate_alg', `${b64u('{"alg":"none","alg":"HS256"}')}.${gp}.${gs}`, 'malformed');
add('header_invalid_utf8', `${b64u(Buffer.concat([Buffer.from('{"alg":"HS256","x":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]))}.${gp}.${gs}`, 'malformed');
add('claims_not_json', manual({ alg: 'HS256' }, 'not json', hmac('sha256', hs256)), 'malformed');
add('claims_json_string', manual({ alg: 'HS256' }, '"alice"', hmac('sha256', hs256)), 'malformed');
add('claims_trailing_garbage', manual({ alg: 'HS256' }, JSON.stringify(claims()) + 'x', hmac('sha256', hs256)), 'malformed');
add('claims_duplicate_sub', manual({ alg: 'HS256' }, JSON.stringify(claims()).replace('{', '{"sub":"mallory",'), hmac('sha256', hs256)), 'malformed');

// Size and depth limits (8192 bytes, depth 32).
const withFiller = (n) => sign(claims({ filler: 'x'.repeat(n) }), hs256, 'HS256');
// The longest token of at most `limit` bytes, and the shortest one longer than that.
const around = (limit) => {
  let n = Math.max(0, Math.floor(((limit - withFiller(0).length) * 3) / 4) - 8);
  while (withFiller(n + 1).length <= limit) ++n;
  return [withFiller(n), withFiller(n + 1)];
};
const [atLimit, overLimit] = around(8192);
ok('token_at_8192_limit', atLimit);
add('token_over_8192_limit', overLimit, 'malformed');
add('token_64_kib', withFiller(48 * 1024), 'malformed');
const nest = (depth) => { let v = 1; for (let i = 0; i < depth; ++i) v = [v]; return v; };
ok('nested_depth_32', sign(claims({ deep: nest(31) }), hs256, 'HS256'));  // the claims object is level 1
add('nested_depth_33', sign(claims({ deep: nest(32) }), hs256, 'HS256'), 'malformed');
add('deeply_nested_claims', manual({ alg: 'HS256' }, '{"sub":"alice","d":' + '['.repeat(3000) + ']'.repeat(3000) + '}', hmac('sha256', hs256)), 'malformed');
add('deeply_nested_header', `${b64u('{"alg":"HS256","x":' + '{"a":'.repeat(100) + '1' + '}'.repeat(100) + '}')}.${gp}.${gs}`, 'malformed');

for (const c of cases) if (c.expected === 'ok' && c.expires_at === undefined) c.expires_at = Math.floor(JSON.parse(Buffer.from(c.token.split('.')[1], 'base64url')).exp ?? 0);

write('manifest.json', JSON.stringify({ now: NOW, options, keysets, cases, load_errors }, null, 1));
console.log(`make_fixtures: ${cases.length} token cases, ${load_errors.length} key errors in ${out}`);
