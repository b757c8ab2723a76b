/** The runtime-spec version tsrun implements and writes into new configs. */
export const SPEC_VERSION = '1.2.0';
