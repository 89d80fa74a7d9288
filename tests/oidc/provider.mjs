// A real OpenID Connect provider on loopback standing in for the city's identity service
// (Helsinki Tunnistus) in the tests: panva's certified `oidc-provider` from npm (pinned in
// package-lock.json), started by tests/oidc/fixtures.py.
//
//   node tests/oidc/provider.mjs PORT USERS_FILE SILTA_BASE_URL
//
// USERS_FILE is JSON, read again at every sign-in so a test can move a user between groups:
//   [{"sub": "<uuid>", "username": "...", "password": "...", "given_name": "...",
//     "family_name": "...", "email": "...", "groups": ["..."]}]
// The groups go out in the `ad_groups` claim (scope ad_groups), as Tunnistus sends the
// user's Active Directory groups, in the userinfo answer and in access tokens for the API.
//
// Clients: `silta` (the web sign-in, confidential, PKCE); `api-client` and
// `api-client-short-lived` stand for an application calling Silta's API with a user's token
// (resource urn:silta:api, audience silta-api, JWT access tokens of 600 s and 1 s).
// The sign-in page is this script's own (user name and password checked against
// USERS_FILE, labels in the language asked for with ui_locales); consent is implied, as
// for the city's own services. Each request is logged to stdout as "METHOD PATH STATUS".

import crypto from 'node:crypto';
import fs from 'node:fs';

import Provider, { errors } from 'oidc-provider';

const [port, usersFile, siltaBase] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;
const API = 'urn:silta:api';
const API_AUDIENCE = 'silta-api';

const users = () => JSON.parse(fs.readFileSync(usersFile, 'utf8'));
const userBySub = (sub) => users().find((user) => user.sub === sub);
const userByName = (name) => users().find((user) => user.username === name);

const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'test-key-1', alg: 'RS256', use: 'sig' };

const apiClient = (clientId) => ({
  client_id: clientId,
  client_secret: `${clientId}-secret`,
  redirect_uris: [`${issuer}/callback/${clientId}`],
  grant_types: ['authorization_code'],
  response_types: ['code'],
});

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'silta',
      client_secret: 'silta-test-secret',
      redirect_uris: [`${siltaBase}/city/complete/tunnistamo/`],
      post_logout_redirect_uris: [`${siltaBase}/login/`],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    },
    apiClient('api-client'),
    apiClient('api-client-short-lived'),
  ],
  jwks: { keys: [signingKey] },
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  ttl: {
    AccessToken: (ctx, token) => token.resourceServer?.accessTokenTTL || 600,
    AuthorizationCode: 60,
    Grant: 3600,
    IdToken: 600,
    Interaction: 600,
    Session: 3600,
  },
  claims: {
    openid: ['sub'],
    profile: ['given_name', 'family_name', 'name'],
    email: ['email'],
    ad_groups: ['ad_groups'],
  },
  async findAccount(ctx, sub) {
    const user = userBySub(sub);
    if (!user) return undefined;
    return {
      accountId: sub,
      async claims() {
        return {
          sub,
          given_name: user.given_name,
          family_name: user.family_name,
          name: `${user.given_name} ${user.family_name}`,
          email: user.email,
          ad_groups: user.groups,
        };
      },
    };
  },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: {
      enabled: true,
      // Signing out of Silta ends the session here too: the service asks, as Tunnistus does.
      async logoutSource(ctx, form) {
        ctx.body = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Sign out</title></head>
<body><main><h1>Sign out of the city's services?</h1>${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes">Sign out</button></main></body></html>`;
      },
    },
    resourceIndicators: {
      enabled: true,
      async getResourceServerInfo(ctx, resource, client) {
        if (resource !== API) throw new errors.InvalidTarget();
        return {
          scope: 'silta',
          audience: API_AUDIENCE,
          accessTokenFormat: 'jwt',
          accessTokenTTL: client.clientId === 'api-client-short-lived' ? 1 : 600,
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
  // The user's groups in the API's access tokens too (Tunnistus puts ad_groups in both).
  async extraTokenClaims(ctx, token) {
    if (token.kind !== 'AccessToken' || !token.accountId) return undefined;
    return { ad_groups: userBySub(token.accountId)?.groups ?? [] };
  },
});

const LABELS = {
  fi: { title: 'Kirjaudu (testipalvelu)', user: 'Käyttäjätunnus', password: 'Salasana', submit: 'Kirjaudu sisään', wrong: 'Väärä tunnus tai salasana.' },
  sv: { title: 'Logga in (testtjänst)', user: 'Användarnamn', password: 'Lösenord', submit: 'Logga in', wrong: 'Fel användarnamn eller lösenord.' },
  en: { title: 'Sign in (test service)', user: 'User name', password: 'Password', submit: 'Sign in', wrong: 'Wrong user name or password.' },
};

function loginPage(uid, params, wrong) {
  const lang = (params.ui_locales || 'fi').split(' ')[0];
  const text = LABELS[lang] || LABELS.en;
  return `<!DOCTYPE html><html lang="${lang}"><head><meta charset="utf-8"><title>${text.title}</title></head>
<body><main><h1>${text.title}</h1>${wrong ? `<p role="alert">${text.wrong}</p>` : ''}
<form method="post" action="/interaction/${uid}/login">
<label>${text.user} <input name="username" autocomplete="username" required></label>
<label>${text.password} <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">${text.submit}</button></form></main></body></html>`;
}

async function formBody(req) {
  let raw = '';
  for await (const chunk of req) raw += chunk;
  return Object.fromEntries(new URLSearchParams(raw));
}

provider.use(async (ctx, next) => {
  await next();
  console.log(`${ctx.method} ${ctx.path} ${ctx.status}`);
});

// The interactions: the sign-in page, and consent given for what the client asked.
provider.use(async (ctx, next) => {
  const match = ctx.path.match(/^\/interaction\/([^/]+)(\/login)?$/);
  if (!match) {
    await next();
    return;
  }
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  const { prompt, params } = details;
  if (ctx.method === 'POST' && match[2]) {
    const form = await formBody(ctx.req);
    const user = userByName(form.username);
    if (!user || user.password !== form.password) {
      ctx.status = 401;
      ctx.type = 'html';
      ctx.body = loginPage(match[1], params, true);
      return;
    }
    const to = await provider.interactionResult(ctx.req, ctx.res, { login: { accountId: user.sub } });
    ctx.status = 303;
    ctx.redirect(to);
    return;
  }
  if (prompt.name === 'login') {
    ctx.type = 'html';
    ctx.body = loginPage(match[1], params, false);
    return;
  }
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: details.session.accountId, clientId: params.client_id });
  const missing = prompt.details;
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [resource, scopes] of Object.entries(missing.missingResourceScopes || {})) {
    grant.addResourceScope(resource, scopes.join(' '));
  }
  const grantId = await grant.save();
  const to = await provider.interactionResult(
    ctx.req, ctx.res, { consent: { grantId } }, { mergeWithLastSubmission: true },
  );
  ctx.status = 303;
  ctx.redirect(to);
});

provider.listen(Number(port), '127.0.0.1', () => console.log(`ready ${issuer}`));
