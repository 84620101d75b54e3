/**
 * A seeded, reproducible demo organization: a unit tree (company → divisions → departments)
 * and a few hundred identities with managers and attributes (department, title, location,
 * cost center). Pure: no I/O, the same options always give the same plan, so the demo and the
 * benchmarks build the same tenant.
 *
 * ```ts
 * const plan = generateDirectory({ seed: 42, identities: 300 });
 * plan.units[0].name        // 'Acme Corporation'
 * plan.identities.length    // 300
 * ```
 */

export interface DirectoryOptions {
  /** Same seed, same organization. */
  seed: number;
  /** How many identities (at least one per department head plus the CEO). */
  identities: number;
  company?: string;
  /** E-mail domain. */
  domain?: string;
}

export interface UnitPlan {
  /** Stable key inside the plan (= externalId). */
  key: string;
  name: string;
  parentKey: string | null;
}

export interface IdentityPlan {
  key: string;
  subject: string;
  username: string;
  email: string;
  firstName: string | null;
  lastName: string | null;
  displayName: string;
  employeeNumber: string;
  type: 'employee' | 'contractor' | 'vendor' | 'service';
  status: 'active' | 'on_leave' | 'terminated';
  /** Managers always come before their reports in the plan. */
  managerKey: string | null;
  unitKey: string;
  attributes: Record<string, string>;
}

export interface DirectoryPlan {
  units: UnitPlan[];
  identities: IdentityPlan[];
}

export const DEFAULT_DEMO_SEED = 20261125;
export const DEFAULT_DEMO_IDENTITIES = 300;

const DIVISIONS: Record<string, Record<string, string[]>> = {
  'Finance & Administration': {
    Accounting: ['Accountant', 'Senior Accountant', 'Accounts Payable Clerk'],
    Treasury: ['Treasury Analyst', 'Cash Manager'],
    Controlling: ['Controller', 'Financial Analyst'],
    Legal: ['Legal Counsel', 'Paralegal', 'Compliance Officer'],
  },
  Technology: {
    'Platform Engineering': ['Software Engineer', 'Senior Software Engineer', 'Site Reliability Engineer'],
    'Product Engineering': ['Software Engineer', 'Frontend Engineer', 'QA Engineer'],
    'IT Operations': ['System Administrator', 'Service Desk Analyst', 'Network Engineer'],
    'Information Security': ['Security Analyst', 'Security Engineer', 'IAM Specialist'],
    Data: ['Data Engineer', 'Data Scientist', 'BI Analyst'],
  },
  'Sales & Marketing': {
    'Sales EMEA': ['Account Executive', 'Sales Development Representative'],
    'Sales Americas': ['Account Executive', 'Sales Engineer'],
    Marketing: ['Marketing Manager', 'Content Strategist', 'Campaign Specialist'],
    'Customer Success': ['Customer Success Manager', 'Support Specialist'],
  },
  Operations: {
    Procurement: ['Buyer', 'Procurement Specialist'],
    Logistics: ['Logistics Coordinator', 'Warehouse Lead'],
    Facilities: ['Facility Manager', 'Office Coordinator'],
  },
  'People & Culture': {
    Recruiting: ['Recruiter', 'Talent Sourcer'],
    'HR Operations': ['HR Generalist', 'Payroll Specialist'],
  },
};

const LOCATIONS = ['Zurich', 'Berlin', 'London', 'New York', 'Singapore', 'Toronto'];

const FIRST_NAMES = [
  'Ada', 'Alan', 'Amara', 'Anna', 'Arjun', 'Beatriz', 'Ben', 'Carla', 'Chen', 'Chloe', 'Daniel', 'Dmitri',
  'Elena', 'Emil', 'Fatima', 'Felix', 'Grace', 'Hana', 'Hugo', 'Ines', 'Isaac', 'Jamal', 'Jana', 'Jonas',
  'Julia', 'Kai', 'Kenji', 'Lara', 'Leon', 'Lina', 'Lucas', 'Maja', 'Marco', 'Maria', 'Mei', 'Mila',
  'Nadia', 'Noah', 'Olga', 'Omar', 'Paula', 'Priya', 'Rafael', 'Rosa', 'Samir', 'Sara', 'Sofia', 'Tariq',
  'Theo', 'Tomas', 'Vera', 'Victor', 'Wen', 'Yara', 'Yusuf', 'Zoe',
];
const LAST_NAMES = [
  'Abbott', 'Almeida', 'Bauer', 'Becker', 'Brennan', 'Castillo', 'Chen', 'Costa', 'Dubois', 'Eriksson',
  'Fischer', 'Fontaine', 'Garcia', 'Gupta', 'Hansen', 'Hoffmann', 'Ito', 'Jansen', 'Kaur', 'Keller',
  'Kowalski', 'Larsen', 'Lopez', 'Meier', 'Moreau', 'Müller', 'Nakamura', 'Novak', 'Okafor', 'Olsen',
  'Patel', 'Petrov', 'Rossi', 'Santos', 'Schmid', 'Schneider', 'Silva', 'Singh', 'Tanaka', 'Torres',
  'Varga', 'Wagner', 'Weber', 'Wong', 'Yilmaz', 'Zimmermann',
];

/** mulberry32: a small, fast, seedable PRNG (same seed → same sequence everywhere). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const slug = (s: string) =>
  s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

export function generateDirectory(options: DirectoryOptions): DirectoryPlan {
  const random = seededRandom(options.seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const company = options.company ?? 'Acme Corporation';
  const domain = options.domain ?? 'acme.example';

  const units: UnitPlan[] = [{ key: 'demo:company', name: company, parentKey: null }];
  const departments: { key: string; name: string; division: string; titles: string[] }[] = [];
  for (const [division, depts] of Object.entries(DIVISIONS)) {
    const divisionKey = `demo:${slug(division)}`;
    units.push({ key: divisionKey, name: division, parentKey: 'demo:company' });
    for (const [name, titles] of Object.entries(depts)) {
      const key = `${divisionKey}/${slug(name)}`;
      units.push({ key, name, parentKey: divisionKey });
      departments.push({ key, name, division, titles });
    }
  }

  const identities: IdentityPlan[] = [];
  const usernames = new Set<string>();
  const person = (unitKey: string, managerKey: string | null, department: string, title: string, location: string): IdentityPlan => {
    const n = identities.length + 1;
    const firstName = pick(FIRST_NAMES);
    const lastName = pick(LAST_NAMES);
    let username = `${slug(firstName)}.${slug(lastName)}`;
    if (usernames.has(username)) username = `${username}${n}`;
    usernames.add(username);
    const roll = random();
    const type = title.endsWith('Officer') || roll > 0.1 ? 'employee' : roll > 0.03 ? 'contractor' : 'vendor';
    const statusRoll = random();
    const status = managerKey === null || statusRoll < 0.92 ? 'active' : statusRoll < 0.97 ? 'on_leave' : 'terminated';
    return {
      key: `demo:person:${n}`,
      subject: `c1s:${17000 + n}`,
      username,
      email: `${username}@${domain}`,
      firstName,
      lastName,
      displayName: `${firstName} ${lastName}`,
      employeeNumber: `E${String(10000 + n)}`,
      type,
      status,
      managerKey,
      unitKey,
      attributes: { department, title, location, costCenter: `CC-${1000 + units.findIndex((u) => u.key === unitKey)}` },
    };
  };
  const add = (p: IdentityPlan) => {
    identities.push(p);
    return p;
  };

  const hq = LOCATIONS[0]!;
  const ceo = add(person('demo:company', null, 'Executive Board', 'Chief Executive Officer', hq));
  const heads = new Map<string, string>();
  for (const division of Object.keys(DIVISIONS)) {
    const head = add(person(`demo:${slug(division)}`, ceo.key, division, `Head of ${division}`, hq));
    heads.set(division, head.key);
  }
  const leads = new Map<string, string>();
  for (const d of departments) {
    const lead = add(person(d.key, heads.get(d.division)!, d.name, `${d.name} Lead`, pick(LOCATIONS)));
    leads.set(d.key, lead.key);
  }
  // Everyone else: spread over the departments, some larger than others.
  const weights = departments.map(() => 0.5 + random());
  const total = weights.reduce((a, b) => a + b, 0);
  const services = ['backup', 'hr-sync', 'monitoring'];
  while (identities.length < options.identities - services.length) {
    let r = random() * total;
    let index = 0;
    while (index < departments.length - 1 && (r -= weights[index]!) > 0) index += 1;
    const d = departments[index]!;
    add(person(d.key, leads.get(d.key)!, d.name, pick(d.titles), pick(LOCATIONS)));
  }
  // A few service accounts, owned (managed) by the IT Operations lead.
  const itOps = departments.find((d) => d.name === 'IT Operations')!;
  for (const name of services) {
    const n = identities.length + 1;
    identities.push({
      key: `demo:service:${name}`,
      subject: `svc:${name}`,
      username: `svc-${name}`,
      email: `svc-${name}@${domain}`,
      firstName: null,
      lastName: null,
      displayName: `Service account ${name}`,
      employeeNumber: `S${String(100 + n)}`,
      type: 'service',
      status: 'active',
      managerKey: leads.get(itOps.key)!,
      unitKey: itOps.key,
      attributes: { department: itOps.name, title: 'Service account', location: hq, costCenter: 'CC-IT' },
    });
  }
  return { units, identities };
}
