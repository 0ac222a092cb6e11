// productpage's login: `POST /login` with a form field `username` sets the `user` cookie, and
// every later page request sends `end-user: <user>` to reviews (what the request-routing task
// matches on). Bookinfo keeps the user in a signed Flask session; a demo needs no secret, so the
// cookie holds the name itself (`curl -b user=jason` works too). Names are limited to printable
// ASCII so they are always a valid header value and cookie.

import { parseCookies } from '../http-kit.js';

export const USER_COOKIE = 'user';
const MAX_NAME = 100;

/** A usable user name, or undefined (then nobody is logged in). */
export function validUser(raw: string | null | undefined): string | undefined {
  const name = (raw ?? '').trim();
  return name.length > 0 && name.length <= MAX_NAME && /^[\x20-\x7e]+$/.test(name) ? name : undefined;
}

export function userFromCookie(cookieHeader: string | undefined): string | undefined {
  return validUser(parseCookies(cookieHeader).get(USER_COOKIE));
}

export function loginCookie(user: string): string {
  return `${USER_COOKIE}=${encodeURIComponent(user)}; Path=/; HttpOnly; SameSite=Lax`;
}

export function logoutCookie(): string {
  return `${USER_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax`;
}
