// The hints of `npm run hint -- 2`, one level at a time: the concept, then the API to use, then near-code.
export const hints: string[] = [
  'topology.exchanges and topology.bindings hold everything to declare; filter them by type.',
];
