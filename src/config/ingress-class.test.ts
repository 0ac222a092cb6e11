import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  STRAIT_CONTROLLER,
  STRAIT_INGRESS_CLASS,
  defaultIngressClasses,
  effectiveIngressClasses,
  ingressClassOf,
  requestedIngressClass,
} from './ingress-class.js';
import type { IngressClassDecision, IngressClassLike, IngressLike } from './ingress-class.js';

const NGINX = 'k8s.io/ingress-nginx';

function cls(name: string, controller: string, isDefault = false): IngressClassLike {
  return { metadata: { name }, spec: { controller }, isDefault };
}

function ing(opts: { className?: string; annotation?: string } = {}): IngressLike {
  return {
    metadata: { annotations: opts.annotation !== undefined ? { 'kubernetes.io/ingress.class': opts.annotation } : {} },
    spec: opts.className !== undefined ? { ingressClassName: opts.className } : {},
  };
}

const served = (className: string, reason: string): IngressClassDecision => ({ served: true, className, reason });
const ignored = (className: string | null, reason: string): IngressClassDecision => ({ served: false, className, reason });
const ANNOTATED = '(named by the deprecated annotation kubernetes.io/ingress.class)';

// ING-01 (the class: ingressClassName, else the annotation, else the default) and ING-02 (one
// default class; none applies when there are several), with Strait's built-in class `strait`.
const table: readonly [string, IngressLike, readonly IngressClassLike[], IngressClassDecision][] = [
  ['no class, no IngressClass declared: the built-in default', ing(), [], served('strait', "no class; the default class strait is Strait's")],
  ['ingressClassName strait, built-in', ing({ className: 'strait' }), [], served('strait', "class strait is Strait's")],
  ['ICC-13: a class that does not exist', ing({ className: 'some-invalid-class-name' }), [], ignored('some-invalid-class-name', 'class some-invalid-class-name does not exist')],
  ['a class of another controller', ing({ className: 'nginx' }), [cls('nginx', NGINX)], ignored('nginx', `class nginx belongs to controller ${NGINX}`)],
  ["a declared class of Strait's controller", ing({ className: 'edge' }), [cls('edge', STRAIT_CONTROLLER)], served('edge', "class edge is Strait's")],
  ['the deprecated annotation names the class', ing({ annotation: 'nginx' }), [cls('nginx', NGINX)], ignored('nginx', `class nginx ${ANNOTATED} belongs to controller ${NGINX}`)],
  ['the annotation names strait', ing({ annotation: 'strait' }), [cls('nginx', NGINX, true)], served('strait', `class strait ${ANNOTATED} is Strait's`)],
  ['the annotation names nothing that exists', ing({ annotation: 'traefik' }), [], ignored('traefik', `class traefik does not exist ${ANNOTATED}`)],
  ['ingressClassName wins over the annotation', ing({ className: 'strait', annotation: 'nginx' }), [cls('nginx', NGINX)], served('strait', "class strait is Strait's")],
  ['an empty annotation means no class', ing({ annotation: '' }), [], served('strait', "no class; the default class strait is Strait's")],
  ['a class is found whatever its default flag', ing({ className: 'nginx' }), [cls('nginx', NGINX, true)], ignored('nginx', `class nginx belongs to controller ${NGINX}`)],
  [
    'no class, and a second default besides the built-in one',
    ing(),
    [cls('nginx', NGINX, true)],
    ignored(null, 'no class, and 2 IngressClasses are marked default (strait, nginx), so none applies'),
  ],
  ["no class, a declared default of Strait's controller besides the built-in one", ing(), [cls('edge', STRAIT_CONTROLLER, true)], ignored(null, 'no class, and 2 IngressClasses are marked default (strait, edge), so none applies')],
  ['an override of strait, default: counted once', ing(), [cls('strait', STRAIT_CONTROLLER, true), cls('nginx', NGINX)], served('strait', "no class; the default class strait is Strait's")],
  ['an override of strait, not default: no default at all', ing(), [cls('strait', STRAIT_CONTROLLER)], ignored(null, 'no class, and no IngressClass is marked default')],
  ['an override of strait, not default, and another default', ing(), [cls('strait', STRAIT_CONTROLLER), cls('nginx', NGINX, true)], ignored('nginx', `no class; the default class nginx belongs to controller ${NGINX}`)],
  ['an override of strait, default, and another default', ing(), [cls('nginx', NGINX, true), cls('strait', STRAIT_CONTROLLER, true)], ignored(null, 'no class, and 2 IngressClasses are marked default (nginx, strait), so none applies')],
  ['an override of strait for another controller', ing({ className: 'strait' }), [cls('strait', 'acme.io/lb')], ignored('strait', 'class strait belongs to controller acme.io/lb')],
  ['three defaults', ing(), [cls('a', NGINX, true), cls('b', NGINX, true)], ignored(null, 'no class, and 3 IngressClasses are marked default (strait, a, b), so none applies')],
];

for (const [name, ingress, classes, expected] of table) {
  test(`ingressClassOf: ${name}`, () => {
    assert.deepEqual(ingressClassOf(ingress, classes), expected);
  });
}

test('effective classes: the built-in strait first unless declared; defaults count an override once', () => {
  assert.deepEqual(effectiveIngressClasses([]), [{ name: STRAIT_INGRESS_CLASS, controller: STRAIT_CONTROLLER, isDefault: true, builtIn: true }]);
  assert.deepEqual(effectiveIngressClasses([cls('nginx', NGINX)]).map((c) => `${c.name}:${c.builtIn}`), ['strait:true', 'nginx:false']);
  assert.deepEqual(effectiveIngressClasses([cls('nginx', NGINX), cls('strait', 'acme.io/x', true)]).map((c) => `${c.name}:${c.controller}:${c.builtIn}`), ['nginx:k8s.io/ingress-nginx:false', 'strait:acme.io/x:false']);
  assert.deepEqual(defaultIngressClasses([cls('strait', STRAIT_CONTROLLER, true)]).map((c) => c.name), ['strait']);
  assert.deepEqual(defaultIngressClasses([cls('strait', STRAIT_CONTROLLER)]), []);
});

test('requestedIngressClass: spec first, then a non-empty annotation', () => {
  assert.deepEqual(requestedIngressClass(ing({ className: 'a', annotation: 'b' })), { name: 'a', from: 'spec' });
  assert.deepEqual(requestedIngressClass(ing({ annotation: 'b' })), { name: 'b', from: 'annotation' });
  assert.equal(requestedIngressClass(ing({ annotation: '' })), undefined);
  assert.equal(requestedIngressClass(ing()), undefined);
});
