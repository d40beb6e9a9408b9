/** The real dataset every bench reads by default (7,391 listings), relative to the project root. */
export const DATA = '../shared/data/cars24_v3.xlsx';
