// Which Ingresses Strait serves (ING-01, ING-02), as small pure functions shared by the analyzers,
// the generator and `strait status`. Strait always has a built-in IngressClass named `strait`
// (controller strait.dev/ingress-controller, marked default) that no manifest declares; an
// IngressClass named `strait` in the manifests replaces it entirely, default flag included.
//
// An Ingress's class is spec.ingressClassName, else the deprecated annotation
// kubernetes.io/ingress.class, else the default class. Kubernetes' admission plugin writes the
// default class into new classless Ingresses, and refuses them when more than one class is marked
// default; Strait resolves the same thing when it reads the manifests, and serves a classless
// Ingress only when exactly one default exists. An Ingress is served iff its class resolves to an
// IngressClass (built-in or declared) whose controller is Strait's.

export const STRAIT_INGRESS_CLASS = 'strait';
export const STRAIT_CONTROLLER = 'strait.dev/ingress-controller';
/** Deprecated (Kubernetes 1.18) but still honoured in place of spec.ingressClassName. */
export const INGRESS_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';
/** On an IngressClass; only the exact string "true" marks the default class. */
export const DEFAULT_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';

/** What ingressClassOf reads of an Ingress. */
export interface IngressLike {
  readonly metadata: { readonly annotations: Readonly<Record<string, string>> };
  readonly spec: { readonly ingressClassName?: string };
}

/** What ingressClassOf reads of an IngressClass. */
export interface IngressClassLike {
  readonly metadata: { readonly name: string };
  readonly spec: { readonly controller: string };
  readonly isDefault: boolean;
}

export interface EffectiveIngressClass {
  readonly name: string;
  readonly controller: string;
  readonly isDefault: boolean;
  /** True for Strait's own `strait` class when no manifest declares one. */
  readonly builtIn: boolean;
}

export interface IngressClassDecision {
  readonly served: boolean;
  /** The class the Ingress ended up with; null when it has none and no single default applies. */
  readonly className: string | null;
  /** One sentence for `strait status`: why the Ingress is or is not served. */
  readonly reason: string;
}

/** The classes in effect: the built-in `strait` class (unless declared) first, then the declared ones. */
export function effectiveIngressClasses(classes: readonly IngressClassLike[]): EffectiveIngressClass[] {
  const declared = classes.map((c): EffectiveIngressClass => ({ name: c.metadata.name, controller: c.spec.controller, isDefault: c.isDefault, builtIn: false }));
  if (declared.some((c) => c.name === STRAIT_INGRESS_CLASS)) return declared;
  return [{ name: STRAIT_INGRESS_CLASS, controller: STRAIT_CONTROLLER, isDefault: true, builtIn: true }, ...declared];
}

/** The classes marked default, the built-in one included (an override of `strait` counts once). */
export function defaultIngressClasses(classes: readonly IngressClassLike[]): EffectiveIngressClass[] {
  return effectiveIngressClasses(classes).filter((c) => c.isDefault);
}

function belongs(c: EffectiveIngressClass): string {
  return c.controller === STRAIT_CONTROLLER ? `is Strait's` : `belongs to controller ${c.controller}`;
}

/** The class an Ingress names itself, and where it named it; undefined when it names none. */
export function requestedIngressClass(ingress: IngressLike): { readonly name: string; readonly from: 'spec' | 'annotation' } | undefined {
  const fromSpec = ingress.spec.ingressClassName;
  if (fromSpec !== undefined && fromSpec !== '') return { name: fromSpec, from: 'spec' };
  const annotations = ingress.metadata.annotations;
  const fromAnnotation = Object.hasOwn(annotations, INGRESS_CLASS_ANNOTATION) ? annotations[INGRESS_CLASS_ANNOTATION] : '';
  return fromAnnotation !== '' ? { name: fromAnnotation, from: 'annotation' } : undefined;
}

/** Resolves the class of `ingress` among `classes` (the declared IngressClasses) and decides whether Strait serves it. */
export function ingressClassOf(ingress: IngressLike, classes: readonly IngressClassLike[]): IngressClassDecision {
  const effective = effectiveIngressClasses(classes);
  const requested = requestedIngressClass(ingress);
  if (requested) {
    const via = requested.from === 'annotation' ? ` (named by the deprecated annotation ${INGRESS_CLASS_ANNOTATION})` : '';
    const found = effective.find((c) => c.name === requested.name);
    if (!found) return { served: false, className: requested.name, reason: `class ${requested.name} does not exist${via}` };
    return { served: found.controller === STRAIT_CONTROLLER, className: found.name, reason: `class ${found.name}${via} ${belongs(found)}` };
  }
  const defaults = effective.filter((c) => c.isDefault);
  if (defaults.length === 0) return { served: false, className: null, reason: 'no class, and no IngressClass is marked default' };
  if (defaults.length > 1) {
    return {
      served: false,
      className: null,
      reason: `no class, and ${defaults.length} IngressClasses are marked default (${defaults.map((c) => c.name).join(', ')}), so none applies`,
    };
  }
  const [only] = defaults;
  return { served: only.controller === STRAIT_CONTROLLER, className: only.name, reason: `no class; the default class ${only.name} ${belongs(only)}` };
}
