/**
 * The cars24 listing's feature columns, as the seed named them: the defaults of params.yaml's
 * data_ingestion section and the columns data/listing-schema.ts validates. One list, here,
 * because config/ is the lowest layer that needs it (data/ re-exports it).
 */

/** The seed's numeric features. */
export const SEED_NUMERIC = ['odometer', 'fitnessAge', 'featureCount'] as const;

/** The seed's categorical features (year is a category in the seed; derived car age is numeric). */
export const SEED_CATEGORICAL = [
  'make',
  'model',
  'variant',
  'year',
  'transmissionType',
  'bodyType',
  'fuelType',
  'ownership',
  'color',
] as const;

/** Equipment flags (0/1): legitimate features the seed left unused; optional in input files. */
export const EQUIPMENT_FLAGS = [
  '360DegreeCamera',
  'AlloyWheels',
  'AppleCarplayAndroidAuto',
  'Bluetooth',
  'CruiseControl',
  'GpsNavigation',
  'InfotainmentSystem',
  'LeatherSeats',
  'ParkingAssist',
  'PushButtonStart',
  'RearAc',
  'SpecialRegNo',
  'Sunroof/Moonroof',
  'TopModel',
  'Tpms',
  'VentilatedSeats',
] as const;
