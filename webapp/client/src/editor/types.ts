// The connection type rule, the same one the server applies (components/nodes/types.py
// is_compatible): equal types match, "*" matches anything, comma unions match when they share a
// member, and a COMBO input also takes a STRING output. A rule of the type system, not of nodes.

export const ANY_TYPE = "*";

export function splitUnion(type: string): Set<string> {
  return new Set(
    type
      .split(",")
      .map((part) => part.trim())
      .filter(Boolean),
  );
}

export function isCompatible(outputType: string, inputType: string): boolean {
  if (outputType === inputType) return true;
  const outputs = splitUnion(outputType);
  const inputs = splitUnion(inputType);
  if (outputs.has(ANY_TYPE) || inputs.has(ANY_TYPE)) return true;
  if (inputs.has("COMBO") && (outputs.has("COMBO") || outputs.has("STRING"))) return true;
  for (const member of outputs) if (inputs.has(member)) return true;
  return false;
}
